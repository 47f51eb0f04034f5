import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (no network beyond an in-process loopback, no child processes; the domain,
 * the use cases, the adapters over memory or a temporary SQLite file, the IoT SQL, the port
 * contracts) for `npm run test:unit`, and `integration` (real brokers, child processes, the CDK
 * synth). `npm test` runs both.
 */
export default defineConfig({
  test: {
    // Integration suites start real brokers and child processes; 2-core CI machines need headroom.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Property tests are seeded (test/setup/fast-check-seed.ts): a test that fails at random is a defect.
    setupFiles: ['test/setup/fast-check-seed.ts'],
    coverage: {
      provider: 'v8',
      include: ['lambdas/**/*.ts', 'infra/**/*.ts'],
      // `npm test` measures the unit project over the domain and the use cases and fails below these.
      // They are the measured floor, never lowered: a new branch comes with the test that takes it.
      thresholds: {
        'lambdas/domain/**': { branches: 100, statements: 100, functions: 100, lines: 100 },
        'lambdas/app/**': { branches: 100, statements: 100, functions: 100, lines: 100 },
      },
    },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'test/infra/**/*.test.ts'] } },
    ],
  },
});
