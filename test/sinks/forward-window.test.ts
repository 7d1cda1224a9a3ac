import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardConfigSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { CStoreForwarder } from '../../src/sinks/cstore-forwarder.js';
import { ProjectStore } from '../../src/store/project-store.js';
import { SecureJsonFile } from '../../src/store/secure-json-file.js';
import type { StoreData } from '../../src/store/store-schema.js';
import { pino } from 'pino';
import { waitFor } from '../helpers/agent-process.js';
import { SAMPLES } from '../helpers/corpus.js';
import { StoreScp, freePort } from '../helpers/dicom-peers.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('a drain between queueing an instance and writing its output', () => {
  it('retries the missing file instead of failing it for good, and delivers it once written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-window-'));
    const port = await freePort();
    const scp = new StoreScp(port, join(root, 'received'));
    cleanup.push(() => scp.stop());
    await scp.ready();
    const store = await ProjectStore.open(join(root, 'store.json'));
    cleanup.push(() => store.close());
    await store.ensureProject({ name: 'W', prefix: 'W_', dateShiftDays: -1, shiftRange: [-1, -1] });
    const config = forwardConfigSchema.parse({ host: '127.0.0.1', port, calledAET: 'DEST', firstRetryDelayMs: 50, maxRetryDelayMs: 100 });
    const forwarder = new CStoreForwarder('W', config, store, createLogger('silent'));
    cleanup.push(() => forwarder.stop());

    // The queue entry is durable before the output exists (the order processInstance uses).
    const output = join(root, 'outbox', 'instance.dcm');
    await store.enqueueForward('W', '1.2.3.4', output);
    forwarder.start(20);
    // Forced into the window: at least one drain has found no file.
    await waitFor(() => (store.data.projects.W?.forwardQueue['1.2.3.4']?.attempts ?? 0) >= 1, 10_000, 'a drain before the file exists');
    expect(store.data.projects.W?.forwardQueue['1.2.3.4']?.state).toBe('pending');
    expect(store.data.projects.W?.forwardQueue['1.2.3.4']?.lastError).toMatch(/ENOENT/);

    mkdirSync(join(root, 'outbox'));
    copyFileSync(join(SAMPLES, 'study-a-ct-1.dcm'), output);
    await waitFor(() => store.data.projects.W?.forwardQueue['1.2.3.4'] === undefined, 15_000, 'the instance to be sent');
    expect(store.data.projects.W?.stats.forwarded).toBe(1);
    expect(readdirSync(scp.dir)).toHaveLength(1);
  });
});

describe('a forwarding attempt whose store write fails', () => {
  it('is logged and retried; it never becomes an unhandled rejection', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deid-fwdfault-'));
    const path = join(root, 'store.json');
    let failWrites = false;
    const file = new (class extends SecureJsonFile {
      override async write(data: StoreData): Promise<void> {
        if (failWrites) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        await super.write(data);
      }
    })(path);
    const store = await ProjectStore.open(path, { adapter: file });
    cleanup.push(() => store.close());
    await store.ensureProject({ name: 'F', prefix: 'F_', dateShiftDays: -1, shiftRange: [-1, -1] });
    await store.enqueueForward('F', '1.2.3.5', join(root, 'missing.dcm'));
    const port = await freePort(); // nothing listens: the attempt is answered 'retry', then settled
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } });
    const forwarder = new CStoreForwarder('F', forwardConfigSchema.parse({ host: '127.0.0.1', port, calledAET: 'DEST', firstRetryDelayMs: 10, maxRetryDelayMs: 20 }), store, log);
    cleanup.push(() => forwarder.stop());
    failWrites = true;
    forwarder.start(20);
    await waitFor(() => lines.filter((l) => l.includes('forwarding attempt failed')).length >= 2, 10_000, 'two failed attempts logged');
    failWrites = false;
    await waitFor(() => (store.data.projects.F?.forwardQueue['1.2.3.5']?.attempts ?? 0) >= 1, 10_000, 'an attempt recorded once writes work');
    expect(lines.some((l) => l.includes('"code":"ENOSPC"'))).toBe(true);
  });
});
