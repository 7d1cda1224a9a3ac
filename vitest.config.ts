import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn the built CLI and external tools (dcmdump, dciodvfy, pydicom).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The fake Graph server's test-only CA (test/fixtures/tls). Node reads it at process start; vitest
    // passes test.env to the forked workers' environment, so their TLS store trusts it.
    env: { NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('./test/fixtures/tls/ca.pem', import.meta.url)) },
  },
});
