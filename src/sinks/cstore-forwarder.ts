import type { ForwardConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createCStoreSink } from './cstore-sink.js';
import { SinkDrainer } from './sink-drainer.js';

/** A project's forward ledger drained to its C-STORE destination, one association per batch. */
export class CStoreForwarder extends SinkDrainer {
  constructor(project: string, config: ForwardConfig, ledgerDir: string, log: Logger, hold?: () => string | undefined) {
    super(project, createCStoreSink(config), config, ledgerDir, log, hold);
  }
}
