/**
 * audio.channel_silence: in a stream of two or more channels, some channels below −60 dBFS while
 * another carries sound, for ≥ 2 s (a dead leg of a stereo pair, a lost channel of 5.1); judged in
 * 100 ms blocks. Every channel silent is audio.silence, not this. `detail.silentChannels` names
 * them (0-based, in the stream's order).
 */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs } from './audioLevels.js';
import type { Detector, DetectorContext } from './types.js';

/** Blocks per second: the time resolution of the rule. */
const BLOCKS_PER_SECOND = 10;

export class ChannelSilenceDetector implements Detector {
  readonly type = 'audio.channel_silence' as const;

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    if (channels < 2) return;
    const level = fromDbfs(this.context.thresholds.channels.levelDbfs);
    const frames = samples.length / channels;
    const blockFrames = Math.max(1, Math.round(sampleRate / BLOCKS_PER_SECOND));
    const peaks = new Float64Array(channels);
    for (let from = 0; from < frames; from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      peaks.fill(0);
      for (let f = from; f < to; f++)
        for (let c = 0; c < channels; c++) {
          const v = Math.abs(samples[f * channels + c]);
          if (v > peaks[c]) peaks[c] = v;
        }
      const silent: number[] = [];
      for (let c = 0; c < channels; c++) if (peaks[c] < level) silent.push(c);
      const active = silent.length > 0 && silent.length < channels;
      this.context.emit({
        type: this.type,
        t: chunk.t + from / sampleRate,
        duration: (to - from) / sampleRate,
        active,
        ...(active ? { detail: { silentChannels: silent.join(','), channels } } : {}),
      });
    }
  }
}
