/** Work units, shards and rendezvous assignment. */
import { describe, expect, it } from 'vitest';
import {
  assignShards,
  parseDetectorGroups,
  rankWorkers,
  shardOf,
  workUnits,
} from '../../shared/partitioner.js';

describe('assignShards', () => {
  it('moves only about 1/N of the shards when a worker joins', () => {
    for (const n of [1, 3, 7]) {
      const before = assignShards(
        1024,
        Array.from({ length: n }, (_, i) => `w${i}`),
      );
      const after = assignShards(
        1024,
        Array.from({ length: n + 1 }, (_, i) => `w${i}`),
      );
      const moved = [...before].filter(([s, w]) => after.get(s) !== w);

      expect(moved.every(([s]) => after.get(s) === `w${n}`)).toBe(true);
      expect(moved.length / 1024).toBeGreaterThan(0.5 / (n + 1));
      expect(moved.length / 1024).toBeLessThan(1.5 / (n + 1));
    }
  });

  it('respects a worker capacity by giving its excess shards to the next-ranked worker', () => {
    const owners = assignShards(32, ['a', 'b'], (w) => (w === 'a' ? 4 : Number.POSITIVE_INFINITY));

    expect([...owners.values()].filter((w) => w === 'a')).toHaveLength(4);
    expect([...owners.values()].filter((w) => w === 'b')).toHaveLength(28);
  });

  it('ranks deterministically', () => {
    expect(rankWorkers(5, ['x', 'y', 'z'])).toEqual(rankWorkers(5, ['z', 'y', 'x']));
  });
});

describe('detector groups', () => {
  it('splits a stream into one unit per group with its own shard, or keeps one unit by default', () => {
    const groups = parseDetectorGroups(
      'video=video.black+video.freeze+video.corruption;audio=audio.silence+audio.loudness',
    );

    const split = workUnits('st_1', ['video.black', 'audio.silence', 'av.desync'], groups);
    const whole = workUnits('st_1', ['video.black', 'audio.silence'], new Map());

    expect(split).toEqual([
      { streamId: 'st_1', group: 'video', detectors: ['video.black', 'av.desync'] },
      { streamId: 'st_1', group: 'audio', detectors: ['audio.silence'] },
    ]);
    expect(whole).toEqual([{ streamId: 'st_1', group: 'all', detectors: ['video.black', 'audio.silence'] }]);
    expect(shardOf('st_1', 'video', 64)).toBe(shardOf('st_1', 'video', 64));
  });
});
