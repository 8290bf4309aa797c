import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/longestFirst.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/fixtures/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Four files at a time: the long system tests mostly wait on real time (live sources played
    // at their pace), so they overlap well even on 2 cores (measured on 2 cores, fixtures made:
    // 382 s and 129 % of a core busy with four, 441 s with three, 792 s with two, the same tests
    // passing). Tests never assume a timing that load could break.
    maxWorkers: 4,
    // Longest files first (test/longestFirst.ts): both processes finish together.
    sequence: { sequencer: LongestFirst },
  },
});
