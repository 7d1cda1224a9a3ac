import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { readOwnerOnlyFile } from '../config/owner-only-file.js';
import { syncDirectory } from '../fs/atomic-write.js';
import { StoreError } from './secure-json-file.js';

/**
 * The crosswalk's key: 32 random bytes, written as 64 hex digits in a file of mode 0600 (created
 * on first use) or given in an environment variable. From it, HKDF-SHA256 derives three
 * independent keys: one seals each patient's identifiers (AES-256-GCM), one keys the look-up
 * hash the crosswalk is indexed by (HMAC-SHA256), and one gives the check value the store keeps
 * to recognise its key. The key itself is never written into the store, a log or an error.
 */
export type CrosswalkKeyRef = { readonly file: string } | { readonly env: string };

export interface CrosswalkKeys {
  readonly seal: Buffer;
  readonly lookup: Buffer;
  /** Stored in the snapshot: says whether a key is the store's, and reveals nothing about it. */
  readonly check: string;
}

export const defaultKeyRef = (storePath: string): CrosswalkKeyRef => ({ file: `${storePath}.key` });
/** Where a rotation writes the new key before the store is rewritten with it. */
export const nextKeyPathOf = (keyPath: string): string => `${keyPath}.next`;

const SALT = Buffer.from('deid-agent crosswalk', 'utf8');
const derive = (master: Buffer, info: string, length: number): Buffer => Buffer.from(hkdfSync('sha256', master, SALT, info, length));

export function deriveKeys(master: Buffer): CrosswalkKeys {
  return {
    seal: derive(master, 'seal v1', 32),
    lookup: derive(master, 'lookup v1', 32),
    check: derive(master, 'check v1', 16).toString('hex'),
  };
}

export const newMasterKey = (): Buffer => randomBytes(32);
const encodeKey = (master: Buffer): string => `${master.toString('hex')}\n`;

function parseKey(text: string, where: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new StoreError(`${where} does not hold a crosswalk key (64 hex digits)`);
  return Buffer.from(hex, 'hex');
}

/**
 * Writes a key file that must not exist yet: mode 0600, fsynced, and its directory too. With
 * `replace`, a file already there (a rotation's stale `.next`) is removed first: the new key is
 * still created exclusively, so a link planted at the path is never followed.
 */
export async function writeKeyFile(path: string, master: Buffer, replace = false): Promise<void> {
  if (replace) await rm(path, { force: true });
  const fh = await open(path, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    throw new StoreError(`cannot create the crosswalk key ${path} (${e.code ?? 'error'})`, { cause: e });
  });
  try {
    await fh.chmod(0o600);
    await fh.writeFile(encodeKey(master));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDirectory(dirname(path));
}

/** Reads a key file, insisting that only its owner can read it (as ssh does for keys). */
export async function readKeyFile(path: string): Promise<Buffer | undefined> {
  const read = await readOwnerOnlyFile(path);
  if ('text' in read) return parseKey(read.text, `the crosswalk key ${path}`);
  const p = read.problem;
  if (p === 'missing') return undefined;
  throw new StoreError(p === 'not-a-file' ? `the crosswalk key ${path} is not a file`
    : p === 'readable-by-others' ? `the crosswalk key ${path} is readable by others (mode ${(read.mode ?? 0).toString(8)}); chmod 600 it`
      : p === 'owned-by-another' ? `the crosswalk key ${path} belongs to another user; it must be this user's own`
        : `cannot read the crosswalk key ${path} (${p.code})`);
}

/** Moves a finished rotation's key into place: after this the old key is gone. */
export async function promoteNextKey(keyPath: string): Promise<void> {
  await rename(nextKeyPathOf(keyPath), keyPath);
  await syncDirectory(dirname(keyPath));
}

export interface LoadedKey {
  readonly master: Buffer;
  /** The key file, when the key came from one (rotation and recovery need it). */
  readonly path?: string;
}

/**
 * Loads the key a config names. A key file that does not exist is created with a fresh key when
 * `create` is set (a new store, or a store being migrated to encryption); otherwise it is an error.
 */
export async function loadCrosswalkKey(ref: CrosswalkKeyRef, options: { create: boolean; env?: NodeJS.ProcessEnv }): Promise<LoadedKey> {
  if ('env' in ref) {
    const value = (options.env ?? process.env)[ref.env];
    // Named by where it was looked for, never by what it holds.
    if (value === undefined || value === '') throw new StoreError(`the crosswalk key's environment variable (crosswalkKey.env) is not set`);
    return { master: parseKey(value, 'the crosswalk key\'s environment variable') };
  }
  const path = resolve(ref.file);
  const existing = await readKeyFile(path);
  if (existing) return { master: existing, path };
  if (!options.create) throw new StoreError(`the crosswalk key ${path} does not exist`);
  const master = newMasterKey();
  try {
    await writeKeyFile(path, master);
  } catch (e) {
    // Another process created it between our read and our write: use theirs.
    const theirs = await readKeyFile(path);
    if (theirs) return { master: theirs, path };
    throw e;
  }
  return { master, path };
}

/** The crosswalk's index: a keyed hash of the project and the identity's own hash. */
export const lookupKeyOf = (keys: CrosswalkKeys, project: string, identityHash: string): string =>
  createHmac('sha256', keys.lookup).update(`${project}\0${identityHash}`, 'utf8').digest('hex');

/** What a sealed entry holds: the original identifiers, and the identity hash its index is made from. */
export interface SealedIdentity {
  readonly patientId: string;
  readonly issuerOfPatientId: string;
  readonly patientName: string;
  readonly birthDate: string;
  /** SHA-256 (hex) of the identity key: rotation recomputes the index from it. */
  readonly identityHash: string;
}

const IV = 12;
const TAG = 16;
/** Binds a sealed entry to its project and pseudonym: moved onto another entry, it does not open. */
const aadOf = (project: string, pseudonym: string): Buffer => Buffer.from(`deid-agent crosswalk v1\0${project}\0${pseudonym}`, 'utf8');

export function sealIdentity(keys: CrosswalkKeys, project: string, pseudonym: string, identity: SealedIdentity): string {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', keys.seal, iv);
  cipher.setAAD(aadOf(project, pseudonym));
  const plain = Buffer.from(JSON.stringify({
    patientId: identity.patientId, issuerOfPatientId: identity.issuerOfPatientId,
    patientName: identity.patientName, birthDate: identity.birthDate, identityHash: identity.identityHash,
  }), 'utf8');
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function openIdentity(keys: CrosswalkKeys, project: string, pseudonym: string, sealed: string): SealedIdentity {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < IV + TAG) throw new StoreError(`the crosswalk entry of ${pseudonym} in project '${project}' is damaged`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.seal, bytes.subarray(0, IV));
    decipher.setAAD(aadOf(project, pseudonym));
    decipher.setAuthTag(bytes.subarray(IV, IV + TAG));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV + TAG)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as SealedIdentity;
  } catch (e) {
    throw new StoreError(`the crosswalk entry of ${pseudonym} in project '${project}' does not open with this key (damaged, or moved from another entry)`, { cause: e });
  }
}
