import type { ForwardConfig } from '../config/schema.js';
import { storeFiles } from '../net/dimse-store.js';
import type { Sink, SinkResult } from './sink.js';

/** A DICOM destination by C-STORE: one association per batch. */
export function createCStoreSink(config: ForwardConfig): Sink {
  return {
    label: `${config.calledAET}@${config.host}:${config.port}`,
    batchSize: config.batchSize,
    async put(paths) {
      const results = await storeFiles({
        host: config.host, port: config.port, calledAET: config.calledAET, callingAET: config.callingAET,
        ...(config.tls ? { tls: config.tls } : {}),
      }, paths);
      const out = new Map<string, SinkResult>();
      for (const path of paths) {
        const r = results.get(path);
        if (!r) out.set(path, { kind: 'retry', reason: 'no result' });
        else if (r.kind === 'stored') out.set(path, { kind: 'stored' });
        else if (r.kind === 'failed') out.set(path, { kind: 'failed', reason: r.reason, status: r.status });
        else out.set(path, { kind: 'retry', reason: r.reason });
      }
      return out;
    },
  };
}
