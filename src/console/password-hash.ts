import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Console passwords as scrypt strings: `scrypt$N$r$p$salt_b64$hash_b64` (N=2^15, r=8, p=1, a
 * random 16-byte salt, a 32-byte key). The parameters travel in the string so that they can be
 * raised later without invalidating older entries.
 */

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
/** scrypt needs 128·N·r bytes (32 MiB here); Node's default maxmem is exactly 32 MiB and refuses it. */
const maxmemFor = (n: number, r: number): number => 128 * n * r + 16 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { N: n, r, p, maxmem: maxmemFor(n, r) }, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P, KEY_BYTES);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed { readonly n: number; readonly r: number; readonly p: number; readonly salt: Buffer; readonly key: Buffer }

/** Bounded parameters: a hash in the config must not be able to make a login cost gigabytes. */
function parse(stored: string): Parsed | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(stored);
  if (!m) return undefined;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 2 || n > 2 ** 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4] as string, 'base64');
  const key = Buffer.from(m[5] as string, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 64) return undefined;
  return { n, r, p, salt, key };
}

/** Whether a scrypt string is one this module can verify (checked for every account at start). */
export const isUsableHash = (stored: string): boolean => parse(stored) !== undefined;

/** Compares in constant time; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h) return false;
  const key = await derive(password, h.salt, h.n, h.r, h.p, h.key.length);
  return timingSafeEqual(key, h.key);
}

/**
 * A hash of a random password, verified against when the account name is unknown: the answer
 * then takes as long as for a real account, so timing does not tell which names exist.
 */
let decoy: Promise<string> | undefined;
export const decoyHash = (): Promise<string> => (decoy ??= hashPassword(randomBytes(16).toString('hex')));
