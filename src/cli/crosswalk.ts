import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Encrypter } from 'age-encryption';
import { appendAudit, auditPathOf, cliActor } from '../audit/audit-log.js';
import { loadConfig } from '../config/load-config.js';
import { readSecret } from '../config/secrets.js';
import { UsageError } from '../config/usage-error.js';
import { firstLineOf } from './first-line.js';
import { type LookupQuery, lookUpCrosswalk } from '../broker/crosswalk-lookup.js';
import { type CrosswalkRow, readCrosswalk } from '../store/crosswalk-reader.js';
import { rotateCrosswalkKey } from '../store/rotate-crosswalk-key.js';

/**
 * The honest broker's commands. They print or export original identifiers, so each is written to
 * the audit log (who, what, which pseudonyms) before it answers; the log never holds the
 * identifiers themselves, nor what was asked for.
 */

export async function crosswalkLookup(configPath: string, project: string, query: LookupQuery, json: boolean, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if ((query.pseudonym === undefined) === (query.patientId === undefined)) throw new UsageError('give exactly one of --pseudonym and --patient-id');
  const config = await loadConfig(configPath, { secrets: false });
  // `--patient-id -` keeps the identifier off the command line (ps, shell history).
  const asked = query.patientId === '-' ? { patientId: (await firstLineOf(stdin as AsyncIterable<Buffer>)).trim() } : query;
  if (asked.patientId === '') throw new UsageError('--patient-id -: no patient ID on standard input');
  const { rows, dateShiftDays } = await lookUpCrosswalk(config, project, asked, cliActor());
  if (json) return `${JSON.stringify({ project, dateShiftDays, patients: rows }, null, 2)}\n`;
  if (rows.length === 0) return 'no match\n';
  const line = (r: CrosswalkRow): string =>
    `${r.pseudonym}\tpatient ID ${r.patientId}${r.issuerOfPatientId ? ` (issuer ${r.issuerOfPatientId})` : ''}\tname ${r.patientName}\tbirth date ${r.birthDate}\tfirst seen ${r.firstSeen}\n`;
  return `${rows.map(line).join('')}date shift ${dateShiftDays} days\n`;
}

export interface ExportTarget {
  readonly passphraseFile?: string;
  readonly recipient?: string;
}

const MIN_PASSPHRASE = 12;

/** An age encrypter for exactly one of a passphrase (from a 0600 file) and a recipient. */
async function encrypterFor(target: ExportTarget): Promise<Encrypter> {
  if ((target.passphraseFile === undefined) === (target.recipient === undefined)) throw new UsageError('give exactly one of --passphrase-file and --recipient');
  const e = new Encrypter();
  if (target.passphraseFile !== undefined) {
    const passphrase = await readSecret({ file: target.passphraseFile }, '--passphrase-file');
    if (passphrase.length < MIN_PASSPHRASE) throw new UsageError(`the passphrase in --passphrase-file is shorter than ${MIN_PASSPHRASE} characters`);
    e.setPassphrase(passphrase);
  } else {
    try {
      e.addRecipient(target.recipient ?? '');
    } catch {
      throw new UsageError('--recipient is not an age recipient (age1…)');
    }
  }
  return e;
}

/**
 * Writes the project's crosswalk (pseudonym, original identifiers, first seen, the date shift)
 * encrypted with age to a passphrase or a recipient: never in plaintext, not even for a moment
 * (encrypted in memory, then written to a new file of mode 0600). An existing file is not replaced.
 */
export async function crosswalkExport(configPath: string, project: string, out: string, target: ExportTarget): Promise<string> {
  const encrypter = await encrypterFor(target);
  const config = await loadConfig(configPath, { secrets: false });
  const crosswalk = await readCrosswalk(config.store, config.crosswalkKey, project);
  const document = { project, exportedAt: new Date().toISOString(), dateShiftDays: crosswalk.dateShiftDays, patients: crosswalk.rows };
  const sealed = await encrypter.encrypt(JSON.stringify(document, null, 1));
  const path = resolve(out);
  const fh = await open(path, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(e.code === 'EEXIST' ? `${path} exists: an export never replaces a file` : `cannot create ${path} (${e.code ?? 'error'})`);
  });
  try {
    await fh.writeFile(sealed);
    await fh.sync();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw e;
  }
  // An export the audit log cannot record is not left behind.
  await appendAudit(auditPathOf(config.store), {
    who: cliActor(), action: 'crosswalk.export', project,
    detail: { patients: crosswalk.rows.length, encryptedTo: target.recipient !== undefined ? 'recipient' : 'passphrase' },
  }).catch(async (e: unknown) => {
    await rm(path, { force: true });
    throw e;
  });
  return `deid-agent crosswalk export: ${crosswalk.rows.length} patient(s) of '${project}' written to ${path}, encrypted (age)\n`;
}

export async function crosswalkRotateKey(configPath: string, newKeyEnv: string | undefined): Promise<string> {
  const config = await loadConfig(configPath, { secrets: false });
  await rotateCrosswalkKey(config.store, config.crosswalkKey, newKeyEnv === undefined ? {} : { newKeyEnv });
  await appendAudit(auditPathOf(config.store), { who: cliActor(), action: 'crosswalk.rotate-key', detail: { keyFrom: 'file' in config.crosswalkKey ? 'file' : 'env' } });
  return 'file' in config.crosswalkKey
    ? `deid-agent crosswalk rotate-key: the store is sealed with a new key, now in ${config.crosswalkKey.file}; the old key opens nothing\n`
    : 'deid-agent crosswalk rotate-key: the store is sealed with the key from --new-key-env; set the variable named in crosswalkKey.env to it before the next start\n';
}
