import { fileURLToPath } from 'node:url';

/** The embedded default, watch.config.ts as built beside the CLI. */
export const DEFAULT_CONFIG = fileURLToPath(new URL('../../watch.config.js', import.meta.url));
