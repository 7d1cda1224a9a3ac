import type { Finding } from '../detect/detector.js';

/**
 * How one input ended. Every input gets exactly one. Reasons never carry input values.
 * `sourceStudyUid` and `sourceInstanceUid` (the input's original UIDs, when they could be read) stay in
 * memory: it lets a PACS retrieval count its studies' outcomes, and is never logged or written.
 */
export type Outcome = (
  /** `cleanedBoxes`: text boxes blanked in the pixels (onText 'clean'), the cleaning verified. */
  | { readonly kind: 'delivered'; readonly outputPath: string; readonly pseudonym: string; readonly cleanedBoxes?: number }
  | { readonly kind: 'quarantined'; readonly reason: string; readonly findings: readonly Finding[] }
  | { readonly kind: 'failed'; readonly reason: string }
) & { readonly sourceStudyUid?: string; readonly sourceInstanceUid?: string };

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
