import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DataElement } from '../../src/dicom/dataset.js';
import { buildFileMeta } from '../../src/dicom/file-meta.js';
import { readDicomFile } from '../../src/dicom/read-file.js';
import { Tags, tagOf } from '../../src/dicom/tag.js';
import { EXPLICIT_LE } from '../../src/dicom/transfer-syntax.js';
import { deflateDataset, serializeDataset, serializeFileMeta } from '../../src/dicom/write.js';
import { resolveProfile } from '../../src/deid/profile.js';
import { processInstance } from '../../src/pipeline/process-instance.js';

const DEFLATED = '1.2.840.10008.1.2.1.99';
const ui = (tag: number, s: string): DataElement => ({ kind: 'value', tag, vr: 'UI', value: Buffer.from(s) });

/** A small deflated file whose data set inflates to `mib` MiB (a zero-filled OB): a deflate bomb in miniature. */
function bomb(path: string, mib: number): string {
  const dataset: DataElement[] = [
    ui(Tags.SOPClassUID, '1.2.840.10008.5.1.4.1.1.7'), ui(Tags.SOPInstanceUID, '1.2.3.4.5'),
    ui(Tags.StudyInstanceUID, '1.2.3.4'), ui(Tags.SeriesInstanceUID, '1.2.3.4.1'),
    { kind: 'value', tag: tagOf(0x0009, 0x1001), vr: 'OB', value: Buffer.alloc(mib << 20) },
  ];
  const body = Buffer.concat(serializeDataset(dataset, EXPLICIT_LE) as Buffer[]);
  writeFileSync(path, Buffer.concat([serializeFileMeta(buildFileMeta('1.2.840.10008.5.1.4.1.1.7', '1.2.3.4.5', DEFLATED)), deflateDataset(body)]));
  return path;
}

describe('deflated data sets are inflated up to a cap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deid-inflate-'));

  it('refuses one that inflates past the cap with a clear reason, and reads one below it', async () => {
    const path = bomb(join(dir, 'bomb.dcm'), 8);
    await expect(readDicomFile(path, { maxInflatedBytes: 4 << 20 })).rejects.toThrow(/inflates to more than 4 MiB/);
    expect((await readDicomFile(path, { maxInflatedBytes: 16 << 20 })).dataset).toHaveLength(5);
  });

  it('sends such a file to failed, naming the limit', async () => {
    const path = bomb(join(dir, 'bomb2.dcm'), 8);
    const outcome = await processInstance(path, {
      name: 'I', profile: resolveProfile([]), secrets: { dateShiftDays: -1, uidSecret: Buffer.alloc(32) }, detectors: [],
      outbox: join(dir, 'out'), pseudonymFor: async () => 'I_001', maxInflatedBytes: 4 << 20,
    });
    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/unsupported: the deflated dataset inflates to more than 4 MiB/) });
  });
});
