import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/fixtures/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two files at a time: the long system tests mostly wait on real time (a 2-minute sink
    // outage, live sources), so they overlap well even on 2 cores.
    maxWorkers: 2,
  },
});
