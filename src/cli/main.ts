#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { StoreError } from '../store/secure-json-file.js';
import { anonymize } from './anonymize.js';
import { OPTION_NAMES, parseOptionNames } from './profile-options.js';

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

const program = new Command()
  .name('deid-agent')
  .description('De-identifies DICOM files for research (DICOM PS3.15 Annex E).')
  .showHelpAfterError();

program
  .command('anonymize')
  .description('de-identify files and folders (recursively) once; inputs are left in place')
  .argument('<input...>', 'files or folders')
  .requiredOption('--out <dir>', 'outbox: <pseudonym>/<study>/<series>/<instance>.dcm')
  .requiredOption('--quarantine <dir>', 'suspected burned-in PHI: original + JSON sidecar')
  .requiredOption('--failed <dir>', 'unreadable inputs: original + JSON sidecar')
  .requiredOption('--prefix <prefix>', 'pseudonym prefix, e.g. ILIAC_CT_ gives ILIAC_CT_001', parsePrefix)
  .requiredOption('--store <file>', 'project store (pseudonym crosswalk, date shift, UID secret)')
  .option('--project <name>', 'project name in the store (default: the prefix without a trailing _ or -)')
  .option('--shift-days <n>', 'date shift in days for a new project (default: drawn once and stored)', parseShift)
  .option('--option <name>', `profile option, repeatable: ${[...OPTION_NAMES.keys()].join(', ')}`, collect, [])
  .action(async (inputs: string[], o: { out: string; quarantine: string; failed: string; prefix: string; store: string; project?: string; shiftDays?: number; option: string[] }) => {
    const options = parseOptionNames(o.option);
    const summary = await anonymize({
      inputs, out: o.out, quarantine: o.quarantine, failed: o.failed, prefix: o.prefix,
      project: o.project ?? o.prefix.replace(/[_-]+$/, ''), storePath: o.store, options,
      ...(o.shiftDays === undefined ? {} : { shiftDays: o.shiftDays }),
    });
    process.stdout.write(
      `deid-agent anonymize: ${summary.inputs} input(s) settled\n` +
      `  delivered    ${summary.delivered}\n  quarantined  ${summary.quarantined}\n  failed       ${summary.failed}\n` +
      `  patients     ${summary.patients}\n`,
    );
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Store and option errors carry no input values; anything else is reported by name and code only.
  const message = e instanceof StoreError || (e instanceof Error && e.message.startsWith('unknown profile option')) || (e instanceof Error && e.message.startsWith('options '))
    ? e.message
    : `run failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).name ?? 'error'}`;
  process.stderr.write(`deid-agent: ${message}\n`);
  process.exitCode = e instanceof StoreError ? 3 : 1;
}
