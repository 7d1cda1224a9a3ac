import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { settleAside } from '../../src/pipeline/settle-aside.js';
import { SAMPLES } from '../helpers/corpus.js';

// Originals set aside are owner-only (0600) whichever way they got there: moved (a claim the
// agent renames, dropped with 0644) or copied (one-shot runs).
const dir = mkdtempSync(join(tmpdir(), 'deid-settle-mode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('settleAside', () => {
  for (const mode of ['move', 'copy'] as const) {
    it(`${mode}: the original in quarantine is 0600, its folder 0700`, async () => {
      const input = join(dir, `in-${mode}.dcm`);
      copyFileSync(join(SAMPLES, 'study-c-us.dcm'), input);
      chmodSync(input, 0o644);
      const q = join(dir, `q-${mode}`);
      const settled = await settleAside(input, q, { kind: 'quarantined', reason: 'test', findings: [] }, 'P', mode);
      expect((statSync(settled.path).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(settled.sidecarPath).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(q).mode & 0o777).toString(8)).toBe('700');
    });
  }
});
