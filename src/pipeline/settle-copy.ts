import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../fs/atomic-write.js';
import { TOOL_NAME } from '../deid/provenance.js';
import type { Outcome } from './outcome.js';

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface SettledCopy {
  readonly path: string;
  readonly sidecarPath: string;
}

/**
 * Keeps a byte-identical copy of an input in the quarantine or failed folder, named by its
 * content hash (never by its input name, which may hold a patient's name), with a JSON sidecar
 * that says why. The same input settled twice lands on the same name. Mode 0600: these are
 * originals, full of PHI.
 */
export async function settleCopy(inputPath: string, dir: string, outcome: Exclude<Outcome, { kind: 'delivered' }>, project: string): Promise<SettledCopy> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const sha256 = await sha256Of(inputPath);
  const { size } = await stat(inputPath);
  const name = sha256.slice(0, 32);
  const path = join(dir, `${name}${outcome.kind === 'quarantined' ? '.dcm' : '.bin'}`);
  const sidecarPath = join(dir, `${name}.json`);
  await writeAtomically(path, createReadStream(inputPath) as AsyncIterable<Buffer>, 0o600);
  const sidecar = {
    outcome: outcome.kind,
    reason: outcome.reason,
    ...(outcome.kind === 'quarantined' ? { findings: outcome.findings } : {}),
    project,
    settledAt: new Date().toISOString(),
    input: { sha256, bytes: size },
    tool: TOOL_NAME,
  };
  await writeAtomically(sidecarPath, [Buffer.from(`${JSON.stringify(sidecar, null, 2)}\n`)], 0o600);
  return { path, sidecarPath };
}
