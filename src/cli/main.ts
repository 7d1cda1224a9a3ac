#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { StoreError } from '../store/secure-json-file.js';
import { DEFAULT_CONFIG } from './default-config.js';
import type { AnonymizeFlags } from './anonymize-request.js';
import { ConfigError } from '../config/load-config.js';
import { OPTION_NAMES } from '../config/option-names.js';
import { UsageError } from '../config/usage-error.js';

const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$/;

function parsePrefix(v: string): string {
  if (!PREFIX_PATTERN.test(v)) throw new InvalidArgumentError('letters, digits, _ and - only, at most 41 characters');
  return v;
}

function parseShift(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n === 0 || Math.abs(n) > 36500) {
    throw new InvalidArgumentError('a whole number of days other than 0 (keep real dates with --option retain-long-full-dates)');
  }
  return n;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function parseConcurrency(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('a whole number from 1 to 256');
  return n;
}

function parseWorkers(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new InvalidArgumentError('a whole number from 0 to 64');
  return n;
}

const program = new Command()
  .name('deid-agent')
  .description('De-identifies DICOM files for research (DICOM PS3.15 Annex E).')
  .showHelpAfterError();

program
  .command('anonymize')
  .description('de-identify files and folders (recursively) once; inputs are left in place')
  .argument('<input...>', 'files or folders')
  .option('--config <file>', 'take the project\'s folders, prefix, store and options from a config file (.js, .mjs, .json)')
  .option('--out <dir>', 'outbox: <pseudonym>/<study>/<series>/<instance>.dcm')
  .option('--quarantine <dir>', 'suspected burned-in PHI: original + JSON sidecar')
  .option('--failed <dir>', 'unreadable inputs: original + JSON sidecar')
  .option('--prefix <prefix>', 'pseudonym prefix, e.g. ILIAC_CT_ gives ILIAC_CT_001', parsePrefix)
  .option('--store <file>', 'project store (pseudonym crosswalk, date shift, UID secret)')
  .option('--project <name>', 'project name (default: the prefix without a trailing _ or -; with --config, its only project)')
  .option('--shift-days <n>', 'date shift in days for a new project (default: drawn once and stored)', parseShift)
  .option('--option <name>', `profile option, repeatable: ${[...OPTION_NAMES.keys()].join(', ')}`, collect, [])
  .option('--concurrency <n>', 'files in flight at once (default: 8 per CPU; runs are deterministic at any value)', parseConcurrency)
  .option('--workers <n>', 'worker threads for the CPU work (default: CPUs - 1, at least 1, at most --concurrency; 0: the main thread)', parseWorkers)
  .option('--no-progress', 'no progress on stderr (default: a bar on a terminal, else a line every 5 s and a closing line)')
  .action(async (inputs: string[], flags: AnonymizeFlags) => {
    // Each command loads its own modules: a one-shot run does not pay for the DICOM network stack.
    const [{ anonymize }, { anonymizeRequest }, { ProgressReporter }] = await Promise.all([
      import('./anonymize.js'), import('./anonymize-request.js'), import('./progress/progress-reporter.js'),
    ]);
    const request = await anonymizeRequest(inputs, flags);
    const progress = new ProgressReporter({ stream: process.stderr, unit: 'files', ...(flags.progress === false ? { mode: 'off' as const } : {}) });
    const summary = await progress.around(anonymize({
      ...request,
      onProgress: (p) => progress.update({
        done: p.settled, total: p.inputs, growing: p.listing, phase: p.listing ? 'listing' : undefined,
        counts: { delivered: p.delivered, quarantined: p.quarantined, failed: p.failed, ...(p.duplicates > 0 ? { duplicates: p.duplicates } : {}) },
      }),
    }));
    process.stdout.write(
      `deid-agent anonymize: ${summary.inputs} input(s) settled\n` +
      `  delivered    ${summary.delivered}\n  quarantined  ${summary.quarantined}\n  failed       ${summary.failed}\n` +
      (summary.duplicates > 0 ? `  duplicates   ${summary.duplicates} (the same instance as an earlier input: the first in input order stands)\n` : '') +
      `  patients     ${summary.patients}\n`,
    );
  });

program
  .command('start')
  .description('run the watch agent: every project\'s inbox is settled into outbox, quarantine or failed')
  .option('--config <file>', 'config file (.js, .mjs, .json); default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .action(async (o: { config: string }) => {
    const { startCommand } = await import('./start.js');
    await startCommand(o.config);
  });

program
  .command('status')
  .description('per project: received, delivered, quarantined, failed, pending, last activity (works while the agent runs)')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .option('--json', 'print JSON')
  .action(async (o: { config: string; json?: boolean }) => {
    const { formatStatuses, projectStatuses } = await import('./status.js');
    const rows = await projectStatuses(o.config);
    process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : formatStatuses(rows));
  });

program
  .command('retrieve')
  .description('retrieve the studies of a list of accession numbers from the project\'s PACS now (the running agent does it)')
  .requiredOption('--project <name>', 'project with pacs and retrieve settings')
  .requiredOption('--accessions <file>', 'CSV or text file: one accession number per line (first column)')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .option('--wait <seconds>', 'wait for the report and print it', (v) => Number(v), 0)
  .option('--no-progress', 'while waiting, no progress on stderr (default: a bar on a terminal, else a line every 5 s and a closing line)')
  .action(async (o: { project: string; accessions: string; config: string; wait: number; progress: boolean }) => {
    const [{ retrieveCommand }, { ProgressReporter }] = await Promise.all([import('./retrieve.js'), import('./progress/progress-reporter.js')]);
    const progress = new ProgressReporter({ stream: process.stderr, unit: 'accessions', ...(o.progress ? {} : { mode: 'off' as const }) });
    process.stdout.write(await progress.around(retrieveCommand(o.config, o.project, o.accessions, o.wait, progress)));
  });

const crosswalk = program
  .command('crosswalk')
  .description('the honest broker\'s tools: look up or export the crosswalk, rotate its key (each audited)');

crosswalk
  .command('lookup')
  .description('the original identifiers behind a pseudonym, or the pseudonym of a patient ID (works while the agent runs)')
  .requiredOption('--project <name>', 'project')
  .option('--pseudonym <pseudonym>', 'e.g. ILIAC_CT_001')
  .option('--patient-id <id>', 'the original Patient ID; - reads it from standard input (keeps it out of ps and shell history)')
  .option('--json', 'print JSON')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .action(async (o: { project: string; pseudonym?: string; patientId?: string; json?: boolean; config: string }) => {
    const { crosswalkLookup } = await import('./crosswalk.js');
    process.stdout.write(await crosswalkLookup(o.config, o.project, {
      ...(o.pseudonym === undefined ? {} : { pseudonym: o.pseudonym }), ...(o.patientId === undefined ? {} : { patientId: o.patientId }),
    }, o.json === true));
  });

crosswalk
  .command('export')
  .description('write a project\'s crosswalk (pseudonyms, original identifiers, first seen, date shift), encrypted with age')
  .requiredOption('--project <name>', 'project')
  .requiredOption('--out <file>', 'the encrypted file to create (never replaced)')
  .option('--passphrase-file <file>', 'encrypt to the passphrase in this file (mode 0600, at least 12 characters)')
  .option('--recipient <recipient>', 'encrypt to this age recipient (its public key, age1…)')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .action(async (o: { project: string; out: string; passphraseFile?: string; recipient?: string; config: string }) => {
    const { crosswalkExport } = await import('./crosswalk.js');
    process.stdout.write(await crosswalkExport(o.config, o.project, o.out, {
      ...(o.passphraseFile === undefined ? {} : { passphraseFile: o.passphraseFile }), ...(o.recipient === undefined ? {} : { recipient: o.recipient }),
    }));
  });

crosswalk
  .command('rotate-key')
  .description('seal the crosswalk with a new key (stop the agent first); a key file is replaced, an env key needs --new-key-env')
  .option('--new-key-env <name>', 'with crosswalkKey.env: the environment variable holding the new key (64 hex digits)')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .action(async (o: { newKeyEnv?: string; config: string }) => {
    const { crosswalkRotateKey } = await import('./crosswalk.js');
    process.stdout.write(await crosswalkRotateKey(o.config, o.newKeyEnv));
  });

const qa = program
  .command('qa')
  .description('sample inspection: the researcher\'s report of a batch, the feedback of PHI found');

qa
  .command('report')
  .description('write a batch\'s sample (seed, images, every attribute, marks, sign-off) as one self-contained HTML file')
  .requiredOption('--project <name>', 'project')
  .option('--batch <id>', 'day-YYYY-MM-DD or request-<id>; default: the latest')
  .requiredOption('--out <file>', 'the HTML file to write')
  .option('--force', 'replace --out if it exists')
  .option('--draw', 'draw the batch\'s sample first if none is recorded (audited)')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .action(async (o: { project: string; batch?: string; out: string; force?: boolean; draw?: boolean; config: string }) => {
    const { qaReport } = await import('./qa.js');
    process.stdout.write(await qaReport(o.config, o.project, {
      out: o.out, force: o.force === true, draw: o.draw === true, ...(o.batch === undefined ? {} : { batch: o.batch }),
    }));
  });

qa
  .command('feedback')
  .description('print the PHI-found marks as JSON (batch, output, attribute or image region, note, who, when, a suggested rule; no values)')
  .requiredOption('--project <name>', 'project')
  .option('--batch <id>', 'one batch; default: all')
  .option('--config <file>', 'config file; default: the embedded watch.config.ts', DEFAULT_CONFIG)
  .action(async (o: { project: string; batch?: string; config: string }) => {
    const { qaFeedback } = await import('./qa.js');
    process.stdout.write(await qaFeedback(o.config, o.project, o.batch));
  });

program
  .command('console')
  .description('the review console (served by start when the config has "console")')
  .command('hash-password')
  .description('read a password on stdin (not echoed on a terminal) and print its scrypt hash and a console.users entry')
  .option('--name <account>', 'the account name for the printed entry', 'reviewer')
  .option('--role <role>', 'reviewer (quarantine and QA) or broker (also the crosswalk)', 'reviewer')
  .action(async (o: { name: string; role: string }) => {
    const { hashPasswordCommand } = await import('./console-hash-password.js');
    process.stdout.write(await hashPasswordCommand(o.name, o.role));
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Store and option errors carry no input values; anything else is reported by name and code only.
  const ours = e instanceof StoreError || e instanceof ConfigError || e instanceof UsageError;
  const message = ours
    ? e.message
    : `run failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).name ?? 'error'}): an input, folder or store path could not be used`;
  process.stderr.write(`deid-agent: ${message}\n`);
  process.exitCode = e instanceof StoreError ? 3 : e instanceof UsageError || e instanceof ConfigError ? 2 : 1;
}
