import { createHash } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLogKey } from '../../src/log/log-key.js';

describe('keyed input identifiers for logs', () => {
  it('are stable for an installation, differ between installations, and cannot be confirmed by hashing a guess', async () => {
    const a = join(mkdtempSync(join(tmpdir(), 'deid-logkey-')), 'store.json');
    const b = join(mkdtempSync(join(tmpdir(), 'deid-logkey-')), 'store.json');
    const idA = await loadLogKey(a);
    expect(statSync(`${a}.logkey`).mode & 0o777).toBe(0o600);
    expect(idA('DOE_JANE/CT/1.dcm')).toMatch(/^[0-9a-f]{12}$/);
    expect((await loadLogKey(a))('DOE_JANE/CT/1.dcm')).toBe(idA('DOE_JANE/CT/1.dcm')); // one identifier across restarts
    expect((await loadLogKey(b))('DOE_JANE/CT/1.dcm')).not.toBe(idA('DOE_JANE/CT/1.dcm'));
    expect(idA('DOE_JANE/CT/1.dcm')).not.toBe(createHash('sha256').update('DOE_JANE/CT/1.dcm').digest('hex').slice(0, 12));
  });
});
