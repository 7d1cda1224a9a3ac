import type { TextBox } from '../detect/detector.js';

/**
 * The reviewer's boxes as the console takes them: from the clean-and-release form (one row per
 * box, `b<N>_frame|x|y|w|h` and an `b<N>_on` checkbox, plus one `new_*` row to add a box) and
 * from the frame preview's query (`?boxes=x,y,w,h;…`). Boxes are positions, not PHI, but every
 * number is checked here: whole pixels, inside the frame, at most MAX_BOXES of them.
 */

export const MAX_BOXES = 64;
/** Rows the form may post at all (included or not): bounds the work a crafted post can cause. */
const MAX_ROWS = 4 * MAX_BOXES;

export interface FrameBounds {
  readonly frameCount: number;
  readonly columns: number;
  readonly rows: number;
}

/** One row of the form as typed (strings, so that a refused form is shown again as it was). */
export interface BoxRow {
  readonly frame: string;
  readonly x: string;
  readonly y: string;
  readonly w: string;
  readonly h: string;
  readonly include: boolean;
}

export type BoxCheck = { readonly boxes: TextBox[] } | { readonly problem: string };

const field = (body: Record<string, unknown>, key: string): string => {
  const v = body[key];
  return typeof v === 'string' ? v.trim().slice(0, 12) : '';
};

/** The detector's boxes as form rows: whole pixels, outward, clipped to the frame. */
export function rowsOfBoxes(boxes: readonly TextBox[], bounds: FrameBounds): BoxRow[] {
  return boxes.map((b) => {
    const x = Math.max(0, Math.floor(b.x));
    const y = Math.max(0, Math.floor(b.y));
    const w = Math.min(bounds.columns, Math.ceil(b.x + b.width)) - x;
    const h = Math.min(bounds.rows, Math.ceil(b.y + b.height)) - y;
    return { frame: String(b.frame), x: String(x), y: String(y), w: String(w), h: String(h), include: true };
  });
}

/**
 * The rows a form posted, in their order: `b<N>_*` rows, then the `new_*` row when any of its
 * position or size was filled in (added, included). Undefined when there are too many rows.
 */
export function rowsOfForm(body: Record<string, unknown>): BoxRow[] | undefined {
  const indices = new Set<number>();
  for (const key of Object.keys(body)) {
    const m = /^b(\d{1,4})_(?:frame|x|y|w|h|on)$/.exec(key);
    if (m) indices.add(Number(m[1]));
  }
  if (indices.size > MAX_ROWS) return undefined;
  const rows: BoxRow[] = [...indices].sort((a, b) => a - b).map((i) => ({
    frame: field(body, `b${i}_frame`), x: field(body, `b${i}_x`), y: field(body, `b${i}_y`), w: field(body, `b${i}_w`), h: field(body, `b${i}_h`),
    include: body[`b${i}_on`] !== undefined,
  }));
  const added = { frame: field(body, 'new_frame') || '0', x: field(body, 'new_x'), y: field(body, 'new_y'), w: field(body, 'new_w'), h: field(body, 'new_h'), include: true };
  if ([added.x, added.y, added.w, added.h].some((v) => v !== '')) rows.push(added);
  return rows;
}

const WHOLE = /^\d{1,5}$/;

/** One row's box, or why not (the message names the row, never anything else). */
function boxOf(row: BoxRow, n: number, bounds: FrameBounds): TextBox | string {
  const values = [row.frame, row.x, row.y, row.w, row.h];
  if (!values.every((v) => WHOLE.test(v))) return `Box ${n}: frame, x, y, width and height must be whole numbers from 0.`;
  const [frame, x, y, width, height] = values.map(Number) as [number, number, number, number, number];
  if (frame >= bounds.frameCount) return `Box ${n}: the image has ${bounds.frameCount} frame${bounds.frameCount === 1 ? '' : 's'} (numbered from 0).`;
  if (width < 1 || height < 1) return `Box ${n}: width and height must be at least 1.`;
  if (x + width > bounds.columns || y + height > bounds.rows) return `Box ${n}: must lie inside the ${bounds.columns} × ${bounds.rows} frame.`;
  return { frame, x, y, width, height, confidence: 0 };
}

/** The included rows as boxes, or the first problem. */
export function boxesOfRows(rows: readonly BoxRow[], bounds: FrameBounds): BoxCheck {
  const boxes: TextBox[] = [];
  for (const [i, row] of rows.entries()) {
    if (!row.include) continue;
    const box = boxOf(row, i + 1, bounds);
    if (typeof box === 'string') return { problem: box };
    boxes.push(box);
  }
  if (boxes.length > MAX_BOXES) return { problem: `At most ${MAX_BOXES} boxes can be cleaned at once.` };
  return { boxes };
}

/** Whether two box lists are the same boxes in the same order (so the detector's were kept as they were). */
export const sameBoxes = (a: readonly TextBox[], b: readonly TextBox[]): boolean =>
  a.length === b.length && a.every((x, i) => {
    const y = b[i] as TextBox;
    return x.frame === y.frame && x.x === y.x && x.y === y.y && x.width === y.width && x.height === y.height;
  });

/** The preview's query value for one frame's boxes: `x,y,w,h;…` (empty: none drawn). */
export const boxesQuery = (boxes: readonly TextBox[], frame: number): string =>
  boxes.filter((b) => b.frame === frame).map((b) => `${b.x},${b.y},${b.width},${b.height}`).join(';');

/** The frame preview's `boxes` query for frame `frame`: the same checks as the form's. */
export function boxesOfQuery(query: string, frame: number, bounds: FrameBounds): BoxCheck {
  if (query === '') return { boxes: [] };
  const parts = query.split(';');
  if (parts.length > MAX_BOXES) return { problem: `at most ${MAX_BOXES} boxes` };
  const rows = parts.map((p): BoxRow => {
    const [x = '', y = '', w = '', h = '', ...rest] = p.split(',');
    return rest.length > 0 ? { frame: '', x, y, w, h, include: true } : { frame: String(frame), x, y, w, h, include: true };
  });
  return boxesOfRows(rows, bounds);
}
