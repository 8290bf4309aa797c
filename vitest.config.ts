import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/longestFirst.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/fixtures/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Three files at a time: the long system tests mostly wait on real time (a 1-minute sink
    // outage, live sources), so they overlap well even on 2 cores (measured: 441 s against 792 s
    // with two, the same tests passing). Tests never assume a timing that load could break.
    maxWorkers: 3,
    // Longest files first (test/longestFirst.ts): both processes finish together.
    sequence: { sequencer: LongestFirst },
  },
});
