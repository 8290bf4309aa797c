/**
 * stream.loss on a file is judged on media time, whatever order its two pipes deliver in: the
 * last sound before a gap coming after the first picture behind it, or before, gives the same
 * incident; a file with one track is judged at once; a track that ended before a gap does not
 * hold it back for ever; two gaps are two incidents.
 */
import { describe, expect, it } from 'vitest';
import type { AudioChunk, VideoFrame } from '../../../worker/converter/types.js';
import { StreamLossDetector } from '../../../worker/detectors/StreamLossDetector.js';
import type { Observation } from '../../../worker/detectors/types.js';
import { recordingContext } from '../../helpers/detectorContext.js';

type Item = { kind: 'video' | 'audio'; t: number };

/** Pictures every 40 ms and 100 ms sound chunks over [from, to). */
function media(from: number, to: number, tracks: ('video' | 'audio')[] = ['video', 'audio']): Item[] {
  const items: Item[] = [];
  if (tracks.includes('video')) for (let t = from; t < to - 1e-9; t += 0.04) items.push({ kind: 'video', t });
  if (tracks.includes('audio')) for (let t = from; t < to - 1e-9; t += 0.1) items.push({ kind: 'audio', t });
  return items;
}

/**
 * Each track in order; the tracks interleaved with sound `lag` seconds of media behind pictures
 * (FFmpeg decodes a file as fast as it can: the first picture after a 4 s gap in the timestamps
 * may reach Node before the last sound before it).
 */
function delivered(items: Item[], lag: number): Item[] {
  const due = (i: Item) => (i.kind === 'audio' ? i.t + lag : i.t);
  return [...items].sort((a, b) => due(a) - due(b) || (a.kind === 'video' ? -1 : 1));
}

/** The loss rule's observations for items handed over in that order, then the end. */
function judged(items: Item[]): Observation[] {
  const { context, seen } = recordingContext();
  const rule = new StreamLossDetector(context);
  for (const item of items) {
    if (item.kind === 'video') {
      const frame = { t: item.t, duration: 0.04, wallMs: 0 } as VideoFrame;
      rule.onVideo(frame);
    } else {
      const chunk: AudioChunk = {
        t: item.t,
        wallMs: 0,
        sampleRate: 48_000,
        channels: 2,
        samples: new Float32Array(9600),
      };
      rule.onAudio(chunk);
    }
  }
  rule.onEnd();
  return seen.map((o) => ({
    ...o,
    t: Math.round(o.t * 1000) / 1000,
    duration: Math.round(o.duration * 1000) / 1000,
  }));
}

describe('stream.loss on a file', () => {
  // Pictures stop at 5.0 s, sound at 5.1 s; both back at 9.0 s.
  const gapped = [...media(0, 5, ['video']), ...media(0, 5.1, ['audio']), ...media(9, 12)];

  it('is the same incident whichever pipe delivers first around the gap', () => {
    const runs = [0, 0.05, 4.5, -4.5].map((lag) => judged(delivered(gapped, lag)));
    for (const run of runs) expect(run).toEqual(runs[0]);
    expect(runs[0]).toMatchObject([
      { type: 'stream.loss', t: 5.1, duration: 3.9, active: true },
      { type: 'stream.loss', t: 9, active: false },
    ]);
  });

  it('with one track, is judged when it comes back; with a track ended before, soon after', () => {
    const pictures = [...media(0, 5, ['video']), ...media(9, 12, ['video'])];
    expect(judged(pictures)).toMatchObject([
      { t: 5, duration: 4, active: true },
      { t: 9, active: false },
    ]);
    // Sound ends for good at 3 s; pictures stop 5–9 s: a loss of every track there was.
    const soundEnded = [...media(0, 3, ['audio']), ...pictures];
    expect(judged(delivered(soundEnded, 0))).toMatchObject([
      { t: 5, duration: 4, active: true },
      { t: 9, active: false },
    ]);
  });

  it('counts two gaps as two incidents, and none where a track kept going', () => {
    const twice = [...media(0, 5), ...media(9, 15), ...media(19, 22)];
    expect(judged(delivered(twice, 0.05)).filter((o) => o.active)).toMatchObject([
      { t: 5, duration: 4 },
      { t: 15, duration: 4 },
    ]);
    const soundKeptGoing = [
      ...media(0, 5, ['video']),
      ...media(9, 12, ['video']),
      ...media(0, 12, ['audio']),
    ];
    expect(judged(delivered(soundKeptGoing, 0.05))).toEqual([]);
  });
});
