// A project whose quarantine the real pipeline filled: the config loaded by the loader, the store
// opened, the project opened as the agent opens it, and each input processed by processInstance
// (the project's own detectors: header rules, the OCR) and settled by settleInput, as `anonymize`
// does with --workers 0. The review desk is built from the same spec and store.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditPathOf } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { PatientIdentity } from '../../src/deid/patient-identity.js';
import { holdWhenExpired } from '../../src/pipeline/data-use-agreement.js';
import { inThisThread } from '../../src/pipeline/instance-workers.js';
import type { Outcome } from '../../src/pipeline/outcome.js';
import { openProject } from '../../src/pipeline/project-context.js';
import { projectOf } from '../../src/pipeline/project.js';
import { settleInput } from '../../src/pipeline/settle-aside.js';
import { type QuarantineItem, listQuarantine } from '../../src/review/quarantine-items.js';
import type { ReviewDesk } from '../../src/review/review-desk.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { REPO, VENDOR_CORPUS } from '../helpers/corpus.js';

export interface Input {
  /** A file of the text corpus (scripts/make-text-corpus.py) or an absolute path. */
  readonly from: string;
  /** dcmodify -i values, e.g. { '(0008,0060)': 'DX' }. */
  readonly set?: Readonly<Record<string, string>>;
}

export interface HeldProject {
  readonly root: string;
  readonly dirs: { readonly input: string; readonly outbox: string; readonly quarantine: string; readonly failed: string; readonly store: string };
  readonly desk: ReviewDesk;
  readonly store: ProjectStore;
  /** Outcome of each input, by its input name. */
  readonly outcomes: ReadonlyMap<string, Outcome>;
}

export interface HeldOptions {
  /** Inputs processed as the agent does while the project's data use agreement has expired (holdWhenExpired). */
  readonly whileExpired?: readonly string[];
}

/** Makes the text corpus once per test file (1–2 s). */
export function textCorpus(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deid-review-corpus-'));
  execFileSync('/usr/bin/python3', [join(REPO, 'scripts', 'make-text-corpus.py'), dir, VENDOR_CORPUS], { stdio: 'ignore' });
  return dir;
}

/**
 * Processes `inputs` with project REV: SC images follow the header rules (held by
 * 'secondary-capture', no OCR), everything else is looked at by the OCR.
 */
export async function heldProject(corpus: string, inputs: Readonly<Record<string, Input>>, ledgers?: readonly string[], options: HeldOptions = {}): Promise<HeldProject> {
  const root = mkdtempSync(join(tmpdir(), 'deid-review-'));
  const dirs = { input: join(root, 'in'), outbox: join(root, 'out'), quarantine: join(root, 'q'), failed: join(root, 'f'), store: join(root, 'store', 'store.json') };
  mkdirSync(dirs.input);
  for (const [i, [name, { from, set }]] of Object.entries(inputs).entries()) {
    const to = join(dirs.input, name);
    copyFileSync(from.startsWith('/') ? from : join(corpus, from), to);
    const args = Object.entries({ ...set, '(0008,0018)': `2.25.${7_000 + i}` }).flatMap(([tag, v]) => ['-nb', '-i', `${tag}=${v}`]);
    execFileSync('dcmodify', [...args, to], { stdio: 'ignore' });
  }
  const config = join(root, 'config.json');
  writeFileSync(config, JSON.stringify({ store: dirs.store, projects: [{
    name: 'REV', prefix: 'REV_', inbox: dirs.input, outbox: dirs.outbox, quarantine: dirs.quarantine, failed: dirs.failed, dateShiftDays: -5,
    pixels: { inspect: { '1.2.840.10008.5.1.4.1.1.7': 'header' }, otherwise: 'all' },
  }] }));
  const resolved = await loadConfig(config);
  const store = await ProjectStore.open(dirs.store);
  const project = projectOf(resolved.projects[0]!);
  const opened = await openProject(store, project);
  const spec = { ...opened, ...(ledgers ? { ledgers } : {}) };
  const calls = { pseudonymFor: (identity: PatientIdentity) => store.pseudonymFor(project.name, identity) };
  const processor = inThisThread(spec, calls);
  const expired = holdWhenExpired(processor, { protocolId: 'IRB-1', principalInvestigator: 'PI', duaExpires: '2020-01-01' }, () => new Date(2026, 0, 1));
  const outcomes = new Map<string, Outcome>();
  for (const name of Object.keys(inputs).sort()) {
    const path = join(dirs.input, name);
    const outcome = await (options.whileExpired?.includes(name) ? expired : processor).process(path);
    await settleInput(path, outcome, project, 'copy');
    outcomes.set(name, outcome);
  }
  return { root, dirs, store, outcomes, desk: { spec, calls, auditPath: auditPathOf(dirs.store) } };
}

/** The quarantined item that holds input `name` (found by its bytes). */
export async function heldItemOf(held: HeldProject, name: string): Promise<QuarantineItem> {
  const bytes = readFileSync(join(held.dirs.input, name));
  const item = (await listQuarantine(held.dirs.quarantine)).find((i) => readFileSync(i.path).equals(bytes));
  if (!item) throw new Error(`${name} is not in the quarantine`);
  return item;
}

/** Closes the project's store and removes its folder and the text corpus. */
export async function removeHeldProject(held: HeldProject, corpus: string): Promise<void> {
  await held.store.close();
  rmSync(held.root, { recursive: true, force: true });
  rmSync(corpus, { recursive: true, force: true });
}

/** pydicom's strict reading (warnings are errors): {path: error} for the files that fail. */
export function strictReadErrors(paths: readonly string[]): Record<string, string> {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-W', 'error', join(REPO, 'test', 'helpers', 'strict_read.py'), ...paths], { encoding: 'utf8' })) as Record<string, string>;
}
