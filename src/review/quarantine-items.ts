import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Finding, TextBox } from '../detect/detector.js';

/**
 * The quarantine as a reviewer sees it: one item per original that settleAside put there
 * (`<sha256[0:32]>.dcm` beside `<same>.json`), read from the sidecar only. Nothing here reads the
 * original's header: an item's list entry carries no input value.
 */

/** Why a review request cannot be done; `message` never quotes an input value. */
export class ReviewError extends Error {
  constructor(
    readonly code: 'bad-id' | 'unknown' | 'ambiguous' | 'gone' | 'no-comment' | 'bad-boxes' | 'bad-frame' | 'dua-expired' | 'held' | 'failed' | 'unrenderable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(`[review] ${message}`, options);
    this.name = 'ReviewError';
  }
}

export interface FindingSummary {
  readonly detector: string;
  readonly rule: string;
  readonly reason: string;
  readonly boxes: number;
}

export interface QuarantineItem {
  /** The first 12 hex digits of the input's SHA-256, as in the sidecar's name. */
  readonly id: string;
  /** The sidecar's name without `.json`: the first 32 hex digits of the input hash. */
  readonly name: string;
  /** The input's full SHA-256 (the audit log's key for it). */
  readonly inputHash: string;
  readonly project: string;
  readonly reason: string;
  readonly findings: readonly FindingSummary[];
  /** Every text box the detectors drew, for the viewer and for cleaning. */
  readonly boxes: readonly TextBox[];
  readonly settledAt: string;
  readonly bytes: number;
  /** The original (PHI) and its sidecar. */
  readonly path: string;
  readonly sidecarPath: string;
}

const boxSchema = z.object({
  frame: z.number().int().nonnegative(), x: z.number(), y: z.number(),
  width: z.number().nonnegative(), height: z.number().nonnegative(), confidence: z.number(),
});
const sidecarSchema = z.object({
  outcome: z.literal('quarantined'),
  reason: z.string(),
  findings: z.array(z.object({ detector: z.string(), rule: z.string(), reason: z.string(), boxes: z.array(boxSchema).optional() })),
  project: z.string(),
  settledAt: z.string(),
  input: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }),
});

/** A sidecar's name: 32 lowercase hex digits (anything else in the folder is not an item). */
const ITEM_NAME = /^[0-9a-f]{32}$/;
/** An id a reviewer may give: 12 to 32 hex digits (case-insensitive), so no path can be formed from it. */
const ID = /^[0-9a-f]{12,32}$/;

export const ID_LENGTH = 12;

/** Reads one item by its exact name; undefined when it is not (or no longer) a whole quarantine item. */
export async function readItem(dir: string, name: string): Promise<QuarantineItem | undefined> {
  if (!ITEM_NAME.test(name)) return undefined;
  const sidecarPath = join(dir, `${name}.json`);
  const path = join(dir, `${name}.dcm`);
  let parsed: z.infer<typeof sidecarSchema>;
  try {
    const result = sidecarSchema.safeParse(JSON.parse(await readFile(sidecarPath, 'utf8')));
    if (!result.success) return undefined;
    parsed = result.data;
    // An original removed by an action that a crash cut short: its sidecar is no item.
    // Never followed: only a regular file is an original settleAside put there.
    if (!(await lstat(path)).isFile()) return undefined;
  } catch {
    return undefined;
  }
  if (!parsed.input.sha256.startsWith(name)) return undefined;
  const findings: Finding[] = parsed.findings.map((f) => ({ detector: f.detector, rule: f.rule, reason: f.reason, ...(f.boxes ? { boxes: f.boxes } : {}) }));
  return {
    id: name.slice(0, ID_LENGTH), name, inputHash: parsed.input.sha256, project: parsed.project, reason: parsed.reason,
    findings: findings.map((f) => ({ detector: f.detector, rule: f.rule, reason: f.reason, boxes: f.boxes?.length ?? 0 })),
    boxes: findings.flatMap((f) => f.boxes ?? []),
    settledAt: parsed.settledAt, bytes: parsed.input.bytes, path, sidecarPath,
  };
}

/** The item names of the folder's sidecars (a missing folder is an empty quarantine). */
async function sidecarNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)).filter((n) => ITEM_NAME.test(n));
}

/** The items in a project's quarantine folder, oldest first (a missing folder is an empty quarantine). */
export async function listQuarantine(dir: string): Promise<QuarantineItem[]> {
  const items = (await Promise.all((await sidecarNames(dir)).map((n) => readItem(dir, n)))).filter((i): i is QuarantineItem => i !== undefined);
  return items.sort((a, b) => a.settledAt.localeCompare(b.settledAt) || a.name.localeCompare(b.name));
}

/** The item an id names: exactly one, or a ReviewError (bad id, unknown, ambiguous). */
export async function resolveItem(dir: string, id: string): Promise<QuarantineItem> {
  const wanted = id.toLowerCase();
  if (!ID.test(wanted)) throw new ReviewError('bad-id', `an item id is ${ID_LENGTH} to 32 hex digits`);
  // Only the sidecars the id names are read, whatever the quarantine's size.
  const names = (await sidecarNames(dir)).filter((n) => n.startsWith(wanted));
  const matches = (await Promise.all(names.map((n) => readItem(dir, n)))).filter((i): i is QuarantineItem => i !== undefined);
  if (matches.length === 0) throw new ReviewError('unknown', `no quarantined item ${wanted}`);
  if (matches.length > 1) throw new ReviewError('ambiguous', `${matches.length} quarantined items start with ${wanted}: give more digits`);
  return matches[0] as QuarantineItem;
}
