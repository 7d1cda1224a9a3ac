import type { DeidConfig } from './schema.js';

/** Types a config file for editors; validation happens when the agent loads it. */
export const defineConfig = (config: DeidConfig): DeidConfig => config;
export type { DeidConfig };
