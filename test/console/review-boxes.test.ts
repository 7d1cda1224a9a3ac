// The reviewer's boxes as the console reads them from the clean form and the preview's query:
// whole pixels inside the frame, at most 64, rows in their posted order, the added row last.
import { describe, expect, it } from 'vitest';
import { MAX_BOXES, boxesOfQuery, boxesOfRows, boxesQuery, rowsOfBoxes, rowsOfForm, sameBoxes } from '../../src/console/review-boxes.js';

const bounds = { frameCount: 2, columns: 100, rows: 50 };
const box = (frame: number, x: number, y: number, width: number, height: number) => ({ frame, x, y, width, height, confidence: 0 });

describe('review boxes', () => {
  it('reads the form\'s rows by index (not by order of the keys), the unticked ones kept but not included, the added row last', () => {
    const rows = rowsOfForm({ b10_frame: '1', b10_x: '5', b10_y: '6', b10_w: '7', b10_h: '8', b10_on: '1', b2_frame: '0', b2_x: '1', b2_y: '1', b2_w: '2', b2_h: '2', new_x: '3', new_y: '4', new_w: '5', new_h: '6' });
    expect(rows?.map((r) => [r.frame, r.x, r.include])).toEqual([['0', '1', false], ['1', '5', true], ['0', '3', true]]);
    expect(boxesOfRows(rows ?? [], bounds)).toEqual({ boxes: [box(1, 5, 6, 7, 8), box(0, 3, 4, 5, 6)] });
    expect(rowsOfForm({ new_frame: '1' })).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 4 * MAX_BOXES + 1 }, (_, i) => [`b${i}_x`, '1']));
    expect(rowsOfForm(many)).toBeUndefined();
  });

  it('refuses fractions, negatives, zero sizes, boxes past the frame\'s edge or a frame past the last, and more than 64 boxes', () => {
    const row = (frame: string, x: string, y: string, w: string, h: string) => ({ frame, x, y, w, h, include: true });
    expect(boxesOfRows([row('0', '90', '40', '10', '10')], bounds)).toEqual({ boxes: [box(0, 90, 40, 10, 10)] });
    for (const [bad, why] of [
      [row('0', '1.5', '0', '5', '5'), /whole numbers/], [row('0', '-1', '0', '5', '5'), /whole numbers/], [row('0', '0', '0', '0', '5'), /at least 1/],
      [row('0', '91', '0', '10', '5'), /inside the 100 × 50 frame/], [row('0', '0', '41', '5', '10'), /inside/], [row('2', '0', '0', '5', '5'), /2 frames/], [row('0', '', '0', '5', '5'), /whole numbers/],
    ] as const) {
      const checked = boxesOfRows([row('0', '1', '1', '1', '1'), bad], bounds);
      expect('problem' in checked && checked.problem).toMatch(why);
      expect('problem' in checked && checked.problem).toMatch(/^Box 2:/);
    }
    expect(boxesOfRows(Array.from({ length: MAX_BOXES + 1 }, () => row('0', '1', '1', '1', '1')), bounds)).toEqual({ problem: 'At most 64 boxes can be cleaned at once.' });
  });

  it('shows the detector\'s boxes as whole pixels outward, clipped to the frame; round-trips the preview query of one frame', () => {
    const rows = rowsOfBoxes([box(0, 2.4, 3.6, 10.2, 5), box(1, 95, 45, 9, 9)], bounds);
    expect(rows.map((r) => [r.x, r.y, r.w, r.h])).toEqual([['2', '3', '11', '6'], ['95', '45', '5', '5']]);
    const boxes = [box(0, 1, 2, 3, 4), box(1, 5, 6, 7, 8), box(0, 9, 9, 9, 9)];
    expect(boxesQuery(boxes, 0)).toBe('1,2,3,4;9,9,9,9');
    expect(boxesOfQuery('1,2,3,4;9,9,9,9', 0, bounds)).toEqual({ boxes: [box(0, 1, 2, 3, 4), box(0, 9, 9, 9, 9)] });
    expect(boxesOfQuery('', 1, bounds)).toEqual({ boxes: [] });
    for (const bad of ['1,2,3', '1,2,3,4,5', '1,2,3,4;', 'a,b,c,d', '0,0,101,1']) expect('problem' in boxesOfQuery(bad, 0, bounds), bad).toBe(true);
    expect(sameBoxes(boxes, [...boxes])).toBe(true);
    expect(sameBoxes(boxes, [boxes[0], boxes[2], boxes[1]].filter((b) => b !== undefined))).toBe(false);
  });
});
