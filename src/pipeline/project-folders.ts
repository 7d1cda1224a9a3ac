import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type RemoteOutboxConfig, outboxKind } from '../config/schema.js';

/** Where a cloud outbox's ledger lives: beside the spool's files, on their file system (entries are hard links). */
export const cloudSinkLedgerDir = (spool: string, remote: RemoteOutboxConfig): string => join(spool, '.deid-sinks', outboxKind(remote));

/** A cloud inbox's own state: downloads in progress, ack markers, the change feed's cursor. Beside the work area, on its file system. */
export const cloudStateDir = (work: string): string => `${work}.cloud`;

/**
 * Empties a spool of outputs that a stopped run wrote but had not queued (the agent's own folders,
 * whose names start with a dot, stay): their claims are still in the work area and are redone.
 */
export async function clearSpool(spool: string): Promise<void> {
  for (const name of await readdir(spool).catch(() => [] as string[])) {
    if (!name.startsWith('.')) await rm(join(spool, name), { recursive: true, force: true });
  }
}
