import { defineConfig } from './src/config/define-config.js';

/**
 * The embedded default: one demo project with its folders under ./data/ (relative to where the
 * agent runs). Copy this file (or write the same shape as .js/.json) for real projects.
 */
export default defineConfig({
  store: './data/deid-store.json',
  projects: [
    {
      name: 'DEMO',
      prefix: 'DEMO_',
      inbox: './data/DEMO/inbox',
      outbox: './data/DEMO/outbox',
      quarantine: './data/DEMO/quarantine',
      failed: './data/DEMO/failed',
      dateShiftRange: [-730, -30],
      options: ['retain-long-modified-dates'],
    },
  ],
});
