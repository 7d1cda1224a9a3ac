import { renderFrame } from '../review/render-frame.js';
import { ReviewError } from '../review/quarantine-items.js';
import { locateOutput } from './qa-retention.js';
import type { SampleItem } from './qa-record.js';
import type { QaScope } from './qa-scope.js';
import { type SampleAttribute, attributesOf } from './sample-attributes.js';

/** What a reviewer (or a report) sees of one sampled output. */
export type SampleView =
  | {
    readonly kind: 'available';
    readonly item: SampleItem;
    readonly attributes: readonly SampleAttribute[];
    /** Frame 0 as PNG, or why there is no image (no pixel data, a codec we lack). */
    readonly image: { readonly png: Buffer; readonly width: number; readonly height: number; readonly frameCount: number } | { readonly none: string };
  }
  /** The output is no longer in the outbox (moved by the researcher) nor retained (pruned). */
  | { readonly kind: 'gone'; readonly item: SampleItem };

export interface ViewOptions {
  /** 0-based (default 0). */
  readonly frame?: number;
  /** The image is scaled down to at most this width (default 768). */
  readonly maxWidth?: number;
}

/**
 * One sampled output for inspection: every attribute at every depth with the places to look
 * highlighted, and a rendered frame (the quarantine review's renderer, without boxes). Reads the
 * de-identified output only: the outbox (or spool) copy, else the copy retained for QA.
 */
export async function viewSample(scope: QaScope, item: SampleItem, options: ViewOptions = {}): Promise<SampleView> {
  const path = await locateOutput(item.path, scope.outbox, scope.retained);
  if (!path) return { kind: 'gone', item };
  const attributes = await attributesOf(path);
  let image: Extract<SampleView, { kind: 'available' }>['image'];
  try {
    const r = await renderFrame(path, [], { frame: options.frame ?? 0, maxWidth: options.maxWidth ?? 768 });
    image = { png: r.png, width: r.width, height: r.height, frameCount: r.frameCount };
  } catch (e) {
    if (!(e instanceof ReviewError)) throw e;
    image = { none: attributes.some((a) => a.path === '(7FE0,0010)') ? e.message : 'no pixel data' };
  }
  return { kind: 'available', item, attributes, image };
}
