import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { copyFileAtomically, temporariesOf, writeAtomically } from '../fs/atomic-write.js';
import { TOOL_NAME } from '../deid/provenance.js';
import { assertNever, type Outcome } from './outcome.js';
import type { Project } from './project.js';

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface SettledAside {
  readonly path: string;
  readonly sidecarPath: string;
}

/** 'copy' leaves the input where it is (one-shot runs); 'move' takes a claimed file. */
export type SettleMode = 'copy' | 'move';

async function moveInto(from: string, to: string, tmpDir: string): Promise<void> {
  try {
    // The claim keeps the mode it was dropped with (often 0644): made owner-only before it lands
    // beside the 0600 sidecar, so an original is never readable by others in quarantine or failed.
    await chmod(from, 0o600);
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // Another file system: a durable copy first, then the claim goes.
    await copyFileAtomically(from, to, 0o600, tmpDir);
    await rm(from);
  }
}

/**
 * Puts an input aside in the quarantine or failed folder, byte-identical, named by its content
 * hash (never by its input name, which may hold a patient's name), with a JSON sidecar that says
 * why. The same input settled twice lands on the same name. The sidecar is written first, so a
 * crash in between leaves the input to be settled again, never a file without its reason.
 * Mode 0600: these are originals, full of PHI. A symbolic link is moved as the link itself,
 * never followed; so is anything else that is not a regular file (a socket, a FIFO: reading one
 * could block for ever), under a random name.
 */
export async function settleAside(inputPath: string, dir: string, outcome: Exclude<Outcome, { kind: 'delivered' }>, project: string, mode: SettleMode): Promise<SettledAside> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(inputPath);
  const isLink = !st.isFile();
  const sha256 = isLink ? undefined : await sha256Of(inputPath);
  const name = sha256 ? sha256.slice(0, 32) : `${st.isSymbolicLink() ? 'link' : 'special'}-${randomBytes(8).toString('hex')}`;
  const path = join(dir, `${name}${isLink ? '' : outcome.kind === 'quarantined' ? '.dcm' : '.bin'}`);
  const sidecarPath = join(dir, `${name}.json`);
  const sidecar = {
    outcome: outcome.kind,
    reason: outcome.reason,
    ...(outcome.kind === 'quarantined' ? { findings: outcome.findings } : {}),
    project,
    settledAt: new Date().toISOString(),
    input: isLink ? (st.isSymbolicLink() ? { symbolicLink: true } : { notARegularFile: true }) : { sha256, bytes: st.size },
    tool: TOOL_NAME,
  };
  const tmpDir = temporariesOf(dir);
  await writeAtomically(sidecarPath, [Buffer.from(`${JSON.stringify(sidecar, null, 2)}\n`)], 0o600, tmpDir);
  if (mode === 'move') await moveInto(inputPath, path, tmpDir);
  else await copyFileAtomically(inputPath, path, 0o600, tmpDir);
  return { path, sidecarPath };
}

/**
 * Settles one input by its outcome: the one settle path of `anonymize` and the agent. Delivered:
 * its output is already written; a claimed input ('move') is consumed, an input read in place
 * ('copy') is left alone. Quarantined or failed: put aside with its reason (settleAside).
 */
export async function settleInput(input: string, outcome: Outcome, project: Pick<Project, 'name' | 'quarantine' | 'failed'>, mode: SettleMode): Promise<void> {
  switch (outcome.kind) {
    case 'delivered':
      if (mode === 'move') await rm(input, { force: true });
      return;
    case 'quarantined':
      await settleAside(input, project.quarantine, outcome, project.name, mode);
      return;
    case 'failed':
      await settleAside(input, project.failed, outcome, project.name, mode);
      return;
    default:
      assertNever(outcome);
  }
}
