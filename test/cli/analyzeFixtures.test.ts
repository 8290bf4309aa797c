/**
 * End to end through the real CLI and real ffmpeg: every injected defect is found within 0.5 s of
 * where it was put, and nothing is reported that was not injected (the hard negatives included).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defectEventSchema } from '../../shared/eventSchema.js';
import { analyzeArgs, FIXTURES } from '../fixtures/fixtures.js';
import { fixturePath, fixturesReady } from '../fixtures/generate.js';
import { events, runCli } from '../helpers/runCli.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady());

describe('streamqc analyze on fixture clips', () => {
  for (const fixture of FIXTURES) {
    const what = fixture.expected.length
      ? `finds ${fixture.expected.map((e) => `${e.type} at ${e.start} s`).join(' and ')}`
      : 'reports nothing';
    it(`${what} in ${fixture.name} (${fixture.description})`, async () => {
      const result = await runCli(analyzeArgs(fixture, fixturePath(fixture.name)));

      expect(result.code, result.stderr).toBe(0);
      const found = events(result.stdout);
      for (const event of found) expect(defectEventSchema.safeParse(event).success).toBe(true);
      expect(found.map((e) => e.type).sort()).toEqual(fixture.expected.map((e) => e.type).sort());
      for (const want of fixture.expected) {
        // The n-th expected incident of a type is the n-th found (a loop breaks the transport twice).
        const nth = fixture.expected.filter((w) => w.type === want.type).indexOf(want);
        const got = found.filter((e) => e.type === want.type).sort((a, b) => a.start - b.start)[nth];
        expect(Math.abs(got.start - want.start), `${want.type} start ${got.start}`).toBeLessThanOrEqual(
          want.tolerance ?? 0.5,
        );
        if (want.offsetMs !== undefined)
          expect(Math.abs(Number(got.detail.offsetMs) - want.offsetMs), 'sync offset').toBeLessThanOrEqual(5);
        if (want.end !== undefined) {
          expect(
            Math.abs((got.end ?? Number.NaN) - want.end),
            `${want.type} end ${got.end}`,
          ).toBeLessThanOrEqual(0.5);
        }
        expect(got.state).toBe('cleared');
        expect(got.streamId).toBe(fixture.name);
      }
    });
  }
});
