// dcmjs ships plain JS: the part of its API the console's header preview uses (src/review/header-preview.ts).
declare module 'dcmjs' {
  export interface ReadOptions {
    readonly ignoreErrors?: boolean;
    /** A tag as 8 hex digits ('7FE00010'): reading stops there. */
    readonly untilTag?: string | null;
    readonly includeUntilTagValue?: boolean;
  }
  /** A data set in DICOM JSON form, keyed by 8 hex digits. */
  export type DicomDict = Record<string, unknown>;
  export class DicomMessage {
    static readFile(buffer: ArrayBuffer, options?: ReadOptions): { readonly meta: DicomDict; readonly dict: DicomDict };
  }
  export class DicomMetaDictionary {
    /** Keyword-keyed values; a person name as [{ Alphabetic }], a binary value as ArrayBuffers. */
    static naturalizeDataset(dict: DicomDict): Record<string, unknown>;
  }
  export const data: { readonly DicomMessage: typeof DicomMessage; readonly DicomMetaDictionary: typeof DicomMetaDictionary };
  /** loglevel's logger, which dcmjs writes its warnings to (the console). */
  export const log: { setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void };
  const dcmjs: { readonly data: typeof data; readonly log: typeof log };
  export default dcmjs;
}
