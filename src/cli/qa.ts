import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { cliActor } from '../audit/audit-log.js';
import { loadConfig } from '../config/load-config.js';
import { UsageError } from '../config/usage-error.js';
import { TOOL_NAME } from '../deid/provenance.js';
import { writeAtomically } from '../fs/atomic-write.js';
import { listBatches } from '../qa/batches.js';
import { feedbackOf } from '../qa/feedback.js';
import { type BatchId, isBatchId } from '../qa/qa-paths.js';
import { QaError, type QaRecord, readRecord } from '../qa/qa-record.js';
import { type QaScope, qaScopeOf } from '../qa/qa-scope.js';
import { renderQaReport } from '../qa/report-html.js';
import { drawSample } from '../qa/sample-draw.js';
import { viewSample } from '../qa/sample-view.js';

/** QA's own refusals say what is wrong with the request, never a value: the command's usage errors. */
async function asUsage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof QaError) throw new UsageError(e.message);
    throw e;
  }
}

/** The named batch, or the project's latest (the one delivered to last). */
async function batchOf(scope: QaScope, batch: string | undefined): Promise<BatchId> {
  if (batch !== undefined) {
    if (!isBatchId(batch)) throw new UsageError('--batch is day-YYYY-MM-DD or request-<12 hex digits>');
    return batch;
  }
  const latest = (await listBatches(scope.storePath, scope.project))[0];
  if (!latest) throw new UsageError(`project ${scope.project} has no deliveries recorded yet`);
  return latest.id;
}

export interface ReportOptions {
  readonly batch?: string;
  readonly out: string;
  readonly force?: boolean;
  /** Draw the batch's sample first when none is recorded (audited as this OS user). */
  readonly draw?: boolean;
}

/**
 * `deid-agent qa report`: the batch's sample, seed, images, attributes, marks and sign-off as one
 * self-contained HTML file for a researcher. Never replaces a file unless forced.
 */
export async function qaReport(configPath: string, project: string, o: ReportOptions): Promise<string> {
  const config = await loadConfig(configPath, { secrets: false });
  const scope = qaScopeOf(config, project);
  const out = resolve(o.out);
  if (!o.force && (await stat(out).then(() => true, () => false))) throw new UsageError(`${o.out} exists; give --force to replace it`);
  return asUsage(async () => {
    const batch = await batchOf(scope, o.batch);
    let record: QaRecord | undefined = await readRecord(scope.storePath, project, batch);
    if (!record && o.draw) record = await drawSample(scope, batch, cliActor());
    if (!record) throw new UsageError(`batch ${batch} has no sample drawn yet (draw it in the console, or give --draw)`);
    const views = [];
    for (const item of record.sample) views.push(await viewSample(scope, item));
    const page = renderQaReport({ record, views, generatedAt: new Date(), tool: TOOL_NAME });
    await writeAtomically(out, [Buffer.from(page, 'utf8')], 0o644);
    const gone = views.filter((v) => v.kind === 'gone').length;
    const changed = views.filter((v) => v.kind === 'changed').length;
    return `qa report: ${batch}, ${record.sample.length} sample(s)${gone > 0 ? `, ${gone} no longer available` : ''}${changed > 0 ? `, ${changed} changed since delivery (not shown)` : ''}, ${record.signOff ? 'signed off' : 'not signed off'} → ${o.out}\n`;
  });
}

/** `deid-agent qa feedback`: the phi-found findings as JSON (what and where, never a value). */
export async function qaFeedback(configPath: string, project: string, batch?: string): Promise<string> {
  const config = await loadConfig(configPath, { secrets: false });
  const scope = qaScopeOf(config, project);
  if (batch !== undefined && !isBatchId(batch)) throw new UsageError('--batch is day-YYYY-MM-DD or request-<12 hex digits>');
  return `${JSON.stringify(await feedbackOf(scope.storePath, project, batch), null, 2)}\n`;
}
