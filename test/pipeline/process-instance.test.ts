import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProfile } from '../../src/deid/profile.js';
import { processInstance } from '../../src/pipeline/process-instance.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { EXPECTED_FAILURES, PYDICOM_CHARSET_FILES, PYDICOM_TEST_FILES, SAMPLES, dcmFiles, requireCorpus, vendorFiles } from '../helpers/corpus.js';
import { makeTaintCorpus } from '../helpers/taint-corpus.js';
import { type Description, addedDciodvfyErrors, describe as pydescribe } from '../helpers/tools.js';

/**
 * Every readable corpus file de-identified on its own (detection off, so screenshots and
 * ultrasound go through the engine too), then checked against its input with pydicom and dciodvfy.
 */
describe('processInstance over every readable corpus file', () => {
  const root = mkdtempSync(join(tmpdir(), 'deid-pipe-'));
  const pairs: Array<[string, string]> = [];
  const refused: string[] = [];
  let store: ProjectStore;
  let d: Record<string, Description>;

  beforeAll(async () => {
    requireCorpus();
    store = await ProjectStore.open(join(root, 'store.json'));
    const secrets = await store.ensureProject({ name: 'P', prefix: 'P_', dateShiftDays: -10, shiftRange: [-10, -10] });
    const inputs = [...dcmFiles(PYDICOM_TEST_FILES), ...dcmFiles(PYDICOM_CHARSET_FILES), ...dcmFiles(SAMPLES), ...vendorFiles(), ...makeTaintCorpus(join(root, 'synthetic'))]
      .filter((f) => !(basename(f) in EXPECTED_FAILURES));
    for (const [i, f] of inputs.entries()) {
      const outcome = await processInstance(f, {
        name: 'P', profile: resolveProfile([]), secrets, detectors: [], outbox: join(root, String(i)),
        pseudonymFor: (identity) => store.pseudonymFor('P', identity),
      });
      if (outcome.kind === 'delivered') pairs.push([f, outcome.outputPath]);
      else refused.push(`${basename(f)}: ${outcome.kind === 'failed' ? outcome.reason : outcome.kind}`);
    }
    d = pydescribe(pairs.flat());
  });

  afterAll(async () => {
    await store.close();
  });

  it('delivers every file that holds an instance; refuses only those without one', () => {
    expect(pairs.length).toBeGreaterThan(70);
    // Files that are not instances (DICOMDIR-less fragments, datasets lacking SOP Class UID).
    for (const r of refused) expect(r).toMatch(/missing or invalid required UID|DICOMDIR/);
  });

  it('copies pixel data byte for byte and keeps the transfer syntax', () => {
    let withPixels = 0;
    for (const [src, out] of pairs) {
      const a = d[src] as Description;
      const b = d[out] as Description;
      expect(b.error, basename(src)).toBeUndefined();
      // An overlay embedded in the unused pixel bits is cleared: those pixels differ on purpose.
      if (basename(src) !== 'nested-ct.dcm') expect(b.pixelSha256, basename(src)).toBe(a.pixelSha256);
      else expect(b.pixelSha256, basename(src)).not.toBe(a.pixelSha256);
      if (a.transferSyntax) expect(b.transferSyntax, basename(src)).toBe(a.transferSyntax);
      if (a.pixelSha256) withPixels++;
    }
    expect(withPixels).toBeGreaterThan(50);
    const syntaxes = new Set(pairs.map(([, o]) => (d[o] as Description).transferSyntax));
    for (const ts of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5',
      '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91']) {
      expect(syntaxes, ts).toContain(ts);
    }
  });

  it('replaces names in every character set and keeps every output decodable', () => {
    const charsetPairs = pairs.filter(([src]) => src.startsWith(PYDICOM_CHARSET_FILES));
    expect(charsetPairs.length).toBeGreaterThanOrEqual(15);
    for (const [src, out] of charsetPairs) {
      const a = d[src] as Description;
      const b = d[out] as Description;
      expect(b.decodes, basename(src)).toBe(true);
      expect(b.elements.find(([p]) => p === '00080005')?.[2], basename(src)).toBe(a.elements.find(([p]) => p === '00080005')?.[2]);
      const name = b.elements.find(([p]) => p === '00100010')?.[2];
      expect(name, basename(src)).toMatch(/^P_\d{3}$/);
      // No person name of the input survives anywhere in the output, at any depth.
      const originals = a.elements.filter(([, vr, v]) => vr === 'PN' && v.length > 2).map(([, , v]) => v);
      const text = b.elements.map(([, , v]) => v).join('\n');
      for (const n of originals) expect(text, `${basename(src)} keeps a name`).not.toContain(n);
    }
  });

  it('adds no dciodvfy error to an output that its input did not have', () => {
    expect(addedDciodvfyErrors(pairs, basename)).toEqual([]);
  });
});
