/**
 * Test files longest first, so the test processes finish together: a fresh clone has no
 * vitest cache of durations, and without it vitest starts the longest system tests last, in
 * whichever process is free, and CI waits for one of them alone. Seconds per file from a full
 * run (2026-12-04, 2 cores); files not listed run after these, in vitest's own order.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SECONDS: Record<string, number> = {
  'test/system/delivery.test.ts': 222,
  'test/system/transport.test.ts': 134,
  'test/system/liveTrust.test.ts': 132,
  'test/system/hostileSource.test.ts': 100,
  'test/system/sinkOutage.test.ts': 88,
  'test/worker/delivery/hlsMonitor.test.ts': 86,
  'test/system/localStack.test.ts': 70,
  'test/system/originOutage.test.ts': 57,
  'test/system/scte35Udp.test.ts': 45,
  'test/system/adBreaks.test.ts': 42,
  'test/worker/delivery/dashMonitor.test.ts': 65,
  'test/cli/analyzeFixtures.test.ts': 52,
  'test/system/awsGrants.test.ts': 37,
  'test/worker/agent/liveness.test.ts': 19,
  'test/system/assignment.test.ts': 15,
  'test/infra/stack.test.ts': 14,
  'test/infra/cdkSynth.test.ts': 14,
  'test/system/redaction.test.ts': 12,
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const seconds = (f: TestSpecification) => SECONDS[relative(this.ctx.config.root, f.moduleId)] ?? 0;
    // A stable sort: the listed files by length, then the rest as vitest ordered them.
    return ordered
      .map((f, i) => ({ f, i }))
      .sort((a, b) => seconds(b.f) - seconds(a.f) || a.i - b.i)
      .map((x) => x.f);
  }
}
