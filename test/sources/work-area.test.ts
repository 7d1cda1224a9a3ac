import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkArea } from '../../src/sources/work-area.js';

const root = mkdtempSync(join(tmpdir(), 'deid-workarea-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('claiming into the work area', () => {
  for (const [how, claim] of [
    ['asynchronously', (w: WorkArea, p: string) => w.claim(p)],
    ['synchronously', async (w: WorkArea, p: string) => w.claimSync(p)],
  ] as const) {
    it(`${how}: a file that vanished is no claim, but a missing work area is an error (retried), not a vanished file`, async () => {
      const work = new WorkArea(join(root, `work-${how}`));
      await work.init();
      expect(await claim(work, join(root, 'never-there.dcm'))).toBeUndefined();

      const input = join(root, `input-${how}.dcm`);
      writeFileSync(input, 'x');
      rmSync(work.dir, { recursive: true }); // both give ENOENT from rename(2)
      await expect(claim(work, input)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(existsSync(input)).toBe(true);

      await work.init();
      const claimed = await claim(work, input);
      expect(claimed && existsSync(claimed)).toBe(true);
      expect(existsSync(input)).toBe(false);
    });
  }
});
