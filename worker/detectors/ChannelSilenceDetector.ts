/**
 * audio.channel_silence: one channel of the front pair (the first two channels: left and right of
 * stereo and of 5.1 alike) below −60 dBFS while the other carries sound, for ≥ 2 s — a dead leg
 * of a stereo pair; judged in 100 ms blocks. The other channels of a multichannel layout are not
 * judged: surrounds and LFE are silent in much legitimate programme (stereo carried in 5.1). Both
 * silent is audio.silence's, not this. `detail.silentChannels` names the silent one (0: left).
 */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs } from './audioLevels.js';
import { pairPeaks } from './kernels/kernels.js';
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
    const peaks = pairPeaks(chunk, blockFrames);
    for (let k = 0, from = 0; from < frames; k++, from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      const left = peaks[2 * k];
      const right = peaks[2 * k + 1];
      // One of the two silent, the other sounding: which one.
      const silent = left < level !== right < level ? (left < level ? 0 : 1) : -1;
      const active = silent >= 0;
      this.context.emit({
        type: this.type,
        t: chunk.t + from / sampleRate,
        duration: (to - from) / sampleRate,
        active,
        ...(active ? { detail: { silentChannels: String(silent), channels } } : {}),
      });
    }
  }
}
