/**
 * The channel rules on synthetic sound: a dead front channel (stereo and 5.1), stereo carried in
 * 5.1 with silent surrounds and LFE (not a fault), a stereo pair in opposite phase, and a mono
 * source (neither rule applies).
 */
import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../../worker/converter/types.js';
import { ChannelSilenceDetector } from '../../../worker/detectors/ChannelSilenceDetector.js';
import { PhaseDetector } from '../../../worker/detectors/PhaseDetector.js';
import type { Observation } from '../../../worker/detectors/types.js';
import { recordingContext } from '../../helpers/detectorContext.js';

const RATE = 48_000;

/** One second of sound: `channel(c, i)` gives channel c's sample i. */
function second(t: number, channels: number, channel: (c: number, i: number) => number): AudioChunk {
  const samples = new Float32Array(RATE * channels);
  for (let i = 0; i < RATE; i++) for (let c = 0; c < channels; c++) samples[i * channels + c] = channel(c, i);
  return { t, wallMs: 0, sampleRate: RATE, channels, samples };
}

const tone = (i: number) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE);

function run(detector: 'silence' | 'phase', chunk: AudioChunk): Observation[] {
  const { context, seen } = recordingContext();
  (detector === 'silence' ? new ChannelSilenceDetector(context) : new PhaseDetector(context)).onAudio?.(
    chunk,
  );
  return seen;
}

const allActive = (o: Observation[]) => o.length > 0 && o.every((x) => x.active);
const noneActive = (o: Observation[]) => o.length > 0 && o.every((x) => !x.active);

describe('audio.channel_silence', () => {
  it('a dead right channel of stereo, and of 5.1', () => {
    const stereo = run(
      'silence',
      second(0, 2, (c, i) => (c === 0 ? tone(i) : 0)),
    );
    expect(allActive(stereo)).toBe(true);
    expect(stereo[0].detail).toEqual({ silentChannels: '1', channels: 2 });
    expect(
      allActive(
        run(
          'silence',
          second(0, 6, (c, i) => (c === 1 ? 0 : tone(i))),
        ),
      ),
    ).toBe(true);
  });

  it('not stereo carried in 5.1 (surrounds and LFE silent), nor both silent, nor mono', () => {
    expect(
      noneActive(
        run(
          'silence',
          second(0, 6, (c, i) => (c < 2 ? tone(i) : 0)),
        ),
      ),
    ).toBe(true);
    expect(
      noneActive(
        run(
          'silence',
          second(0, 2, () => 0),
        ),
      ),
    ).toBe(true);
    expect(
      run(
        'silence',
        second(0, 1, (_, i) => tone(i)),
      ),
    ).toEqual([]);
  });
});

describe('audio.phase', () => {
  it('a stereo pair in opposite phase; not in phase, not one channel silent', () => {
    const inverted = run(
      'phase',
      second(0, 2, (c, i) => (c === 0 ? tone(i) : -tone(i))),
    );
    expect(allActive(inverted)).toBe(true);
    expect(inverted[0].detail).toEqual({ minCorrelation: -1 });
    expect(
      noneActive(
        run(
          'phase',
          second(0, 2, (_, i) => tone(i)),
        ),
      ),
    ).toBe(true);
    expect(
      noneActive(
        run(
          'phase',
          second(0, 2, (c, i) => (c === 0 ? tone(i) : 0)),
        ),
      ),
    ).toBe(true);
  });
});
