/**
 * audio.channel_silence: one channel of the front pair (the first two channels: left and right of
 * stereo and of 5.1 alike) below −60 dBFS while the other carries sound, for ≥ 2 s — a dead leg
 * of a stereo pair; judged in 100 ms blocks. The other channels of a multichannel layout are not
 * judged: surrounds and LFE are silent in much legitimate programme (stereo carried in 5.1). Both
 * silent is audio.silence's, not this. `detail.silentChannels` names the silent one (0: left).
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
    for (let from = 0; from < frames; from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      let left = 0;
      let right = 0;
      for (let i = from * channels; i < to * channels; i += channels) {
        const l = samples[i];
        const r = samples[i + 1];
        const a = l < 0 ? -l : l;
        const b = r < 0 ? -r : r;
        if (a > left) left = a;
        if (b > right) right = b;
      }
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
