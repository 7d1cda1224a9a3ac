import { copyFileSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { batchOutputs, listBatches } from '../../src/qa/batches.js';
import type { BatchId } from '../../src/qa/qa-paths.js';
import { filesUnder, waitFor } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import type { ConsoleFixture } from './console-fixture.js';

/** The repository's samples with names and IDs (Doe^Jane, MRN12345; Roe^John): CT (three syntaxes), MR and US. */
export const QA_SAMPLE_INPUTS = ['study-a-ct-1.dcm', 'study-a-ct-2-implicit.dcm', 'study-a-ct-3-bigendian.dcm', 'study-b-mr-no-patient-id.dcm', 'study-c-us.dcm']
  .map((n) => join(SAMPLES, n));

/**
 * Drops files into a project's inbox (written beside it, renamed in), waits until the agent has
 * settled them and its delivery ledger lists every output in the outbox; returns the batch.
 */
export async function deliverForQa(f: ConsoleFixture, project: string, files: readonly string[]): Promise<BatchId> {
  const p = f.config.projects.find((x) => x.name === project);
  if (!p) throw new Error(`no project ${project}`);
  const staging = join(f.dir, project, 'staging');
  mkdirSync(staging, { recursive: true });
  files.forEach((file, i) => {
    copyFileSync(file, join(staging, `qa-${i}.dcm`));
    renameSync(join(staging, `qa-${i}.dcm`), join(p.inbox, `qa-${i}.dcm`));
  });
  await waitFor(() => readdirSync(p.inbox).length === 0, 60_000, `${project}'s inbox drained`);
  const outputs = (): number => filesUnder(p.outbox).filter((x) => x.endsWith('.dcm')).length;
  for (let i = 0; i < 300; i++) {
    const batch = (await listBatches(f.config.store, project))[0]?.id;
    if (batch && outputs() > 0 && (await batchOutputs(f.config.store, project, batch)).length === outputs()) return batch;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${project}'s deliveries never reached the ledger`);
}
