import { renderDicomFrame, type FrameInfo, frameInfoOfFile } from '../review/render-frame.js';
import { ReviewError } from '../review/quarantine-items.js';
import { readDeliveredOutput } from './delivered-output.js';
import type { SampleItem } from './qa-record.js';
import type { QaScope } from './qa-scope.js';
import { type SampleAttribute, attributesOfBytes } from './sample-attributes.js';

/** Why a sampled output cannot be shown: see delivered-output.ts. */
export type SampleUnavailable =
  /** The output is no longer in the outbox (moved by the researcher) nor retained (pruned). */
  | { readonly kind: 'gone'; readonly item: SampleItem }
  /** Something else is at its path (a link, another instance, a file not de-identified): never shown. */
  | { readonly kind: 'changed'; readonly item: SampleItem };

/** What a reviewer (or a report) sees of one sampled output. */
export type SampleView =
  | {
    readonly kind: 'available';
    readonly item: SampleItem;
    readonly attributes: readonly SampleAttribute[];
    /** Frame 0 as PNG, or why there is no image (no pixel data, a codec we lack). */
    readonly image: { readonly png: Buffer; readonly width: number; readonly height: number; readonly frameCount: number } | { readonly none: string };
  }
  | SampleUnavailable;

/** The sample page's facts: attributes and frame layout, without rendering. */
export type SampleFacts =
  | { readonly kind: 'available'; readonly item: SampleItem; readonly attributes: readonly SampleAttribute[]; readonly frames: FrameInfo }
  | SampleUnavailable;

export interface ViewOptions {
  /** 0-based (default 0). */
  readonly frame?: number;
  /** The image is scaled down to at most this width (default 768). */
  readonly maxWidth?: number;
}

/**
 * Reads a sampled output, checked (delivered-output.ts), with its attributes. The SOP Instance
 * UID is checked once more in what dcmjs reads: the attributes shown are of the ledger's instance.
 */
async function readSample(scope: QaScope, item: SampleItem) {
  const out = await readDeliveredOutput(item, scope.outbox, scope.retained);
  if (out.kind !== 'ok') return { kind: out.kind, item } as const;
  const attributes = await attributesOfBytes(out.bytes).catch(() => undefined);
  if (!attributes || attributes.find((a) => a.path === '(0008,0018)')?.value !== item.sop) return { kind: 'changed', item } as const;
  return { kind: 'available', item, attributes, file: out.file } as const;
}

/** The sampled output's attributes and frame layout (the console's sample page). */
export async function sampleFacts(scope: QaScope, item: SampleItem): Promise<SampleFacts> {
  const s = await readSample(scope, item);
  if (s.kind !== 'available') return s;
  return { kind: 'available', item, attributes: s.attributes, frames: await frameInfoOfFile(s.file) };
}

/**
 * One sampled output for inspection: every attribute at every depth with the places to look
 * highlighted, and a rendered frame (the quarantine review's renderer, without boxes). Reads the
 * de-identified output only: the outbox (or spool) copy, else the copy retained for QA.
 */
export async function viewSample(scope: QaScope, item: SampleItem, options: ViewOptions = {}): Promise<SampleView> {
  const s = await readSample(scope, item);
  if (s.kind !== 'available') return s;
  const { attributes } = s;
  let image: Extract<SampleView, { kind: 'available' }>['image'];
  try {
    const r = await renderDicomFrame(s.file, [], { frame: options.frame ?? 0, maxWidth: options.maxWidth ?? 768 });
    image = { png: r.png, width: r.width, height: r.height, frameCount: r.frameCount };
  } catch (e) {
    if (!(e instanceof ReviewError)) throw e;
    image = { none: attributes.some((a) => a.path === '(7FE0,0010)') ? e.message : 'no pixel data' };
  }
  return { kind: 'available', item, attributes, image };
}
