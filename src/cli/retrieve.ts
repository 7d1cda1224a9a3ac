import { copyFile, readFile, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { UsageError } from '../config/usage-error.js';
import { type AccessionReport, IMMEDIATE_DIR, parseAccessions, reportPathFor } from '../sources/pacs-retrieval.js';
import type { ProgressReporter, ProgressUpdate } from './progress/progress-reporter.js';

/**
 * Hands an accession list to the running agent for an immediate run (the agent owns the store
 * and the listener, so it does the work): the file is placed in the project's `requests/now/`.
 * With `waitSeconds`, waits for the report and returns it, showing the request's progress on
 * `progress` meanwhile.
 */
export async function retrieveCommand(
  configFile: string, project: string, accessionsFile: string, waitSeconds: number, progress?: ProgressReporter,
): Promise<string> {
  const config = await loadConfig(configFile, { secrets: false });
  const p = config.projects.find((x) => x.name === project);
  if (!p) throw new UsageError(`no project '${project}' in ${configFile}`);
  if (!p.retrieve || !p.pacs) throw new UsageError(`project '${project}' has no pacs and retrieve settings`);
  const name = /\.(csv|txt)$/i.test(accessionsFile) ? basename(accessionsFile) : `${basename(accessionsFile)}.txt`;
  const target = join(p.retrieve.requests, IMMEDIATE_DIR, `${Date.now()}-${name}`);
  await copyFile(accessionsFile, `${target}.part`);
  await rename(`${target}.part`, target);
  if (waitSeconds <= 0) return `queued for an immediate run: ${target}\n`;
  // The agent counts the same accessions (its parser): the total is known from the start.
  const total = parseAccessions(await readFile(target, 'utf8')).accessions.length;
  const end = Date.now() + waitSeconds * 1000;
  let running = false;
  while (Date.now() < end) {
    const report = await readFile(reportPathFor(target), 'utf8').catch(() => undefined);
    if (report !== undefined) {
      const done = (JSON.parse(report) as { accessions?: AccessionReport[] }).accessions ?? [];
      progress?.update(retrievalUpdate(done, total));
      progress?.finish();
      return report;
    }
    const done = await readFile(`${target}.progress.json`, 'utf8')
      .then((t) => (JSON.parse(t) as { done?: AccessionReport[] }).done ?? [], () => undefined);
    running ||= done !== undefined;
    progress?.update(retrievalUpdate(done ?? [], total, running ? undefined : 'waiting for the agent'));
    await new Promise((r) => setTimeout(r, 500));
  }
  progress?.finish(running ? 'still running' : 'still queued');
  return `still ${running ? 'running' : 'queued'} after ${waitSeconds} s (is the agent running?): ${target}\n`;
}

/**
 * Accessions done of the request's total, with the instances they brought (counts only: an
 * accession number is never shown). The agent records an accession once it is settled, so the
 * bar moves an accession at a time.
 */
export function retrievalUpdate(done: readonly AccessionReport[], total: number, phase?: string): ProgressUpdate {
  const sum = (k: 'received' | 'delivered' | 'quarantined' | 'failed'): number => done.reduce((n, r) => n + (r[k] ?? 0), 0);
  return {
    done: done.length, total: Math.max(total, done.length), phase,
    counts: { received: sum('received'), delivered: sum('delivered'), quarantined: sum('quarantined'), failed: sum('failed') },
  };
}
