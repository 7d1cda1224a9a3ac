import { copyFile, readFile, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { UsageError } from '../config/usage-error.js';
import { IMMEDIATE_DIR, reportPathFor } from '../sources/pacs-retrieval.js';

/**
 * Hands an accession list to the running agent for an immediate run (the agent owns the store
 * and the listener, so it does the work): the file is placed in the project's `requests/now/`.
 * With `waitSeconds`, waits for the report and returns it.
 */
export async function retrieveCommand(configFile: string, project: string, accessionsFile: string, waitSeconds: number): Promise<string> {
  const config = await loadConfig(configFile, { secrets: false });
  const p = config.projects.find((x) => x.name === project);
  if (!p) throw new UsageError(`no project '${project}' in ${configFile}`);
  if (!p.retrieve || !p.pacs) throw new UsageError(`project '${project}' has no pacs and retrieve settings`);
  const name = /\.(csv|txt)$/i.test(accessionsFile) ? basename(accessionsFile) : `${basename(accessionsFile)}.txt`;
  const target = join(p.retrieve.requests, IMMEDIATE_DIR, `${Date.now()}-${name}`);
  await copyFile(accessionsFile, `${target}.part`);
  await rename(`${target}.part`, target);
  if (waitSeconds <= 0) return `queued for an immediate run: ${target}\n`;
  const end = Date.now() + waitSeconds * 1000;
  while (Date.now() < end) {
    const report = await readFile(reportPathFor(target), 'utf8').catch(() => undefined);
    if (report !== undefined) return report;
    await new Promise((r) => setTimeout(r, 500));
  }
  return `still queued after ${waitSeconds} s (is the agent running?): ${target}\n`;
}
