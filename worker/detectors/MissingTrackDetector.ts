/** audio.missing / video.missing: a track the stream is expected to carry is absent. */
import type { TrackInfo } from '../converter/types.js';
import type { Detector, DetectorContext } from './types.js';

export class MissingTrackDetector implements Detector {
  readonly type: 'audio.missing' | 'video.missing';
  private missing = false;

  constructor(
    private readonly context: DetectorContext,
    private readonly track: 'audio' | 'video',
  ) {
    this.type = track === 'audio' ? 'audio.missing' : 'video.missing';
  }

  onTracks(tracks: TrackInfo): void {
    this.missing = this.context.expect[this.track] && tracks[this.track] === null;
    this.context.emit({
      type: this.type,
      t: 0,
      duration: 0,
      active: this.missing,
      detail: { expected: true },
    });
  }

  onEnd(t: number): void {
    if (this.missing) this.context.emit({ type: this.type, t: 0, duration: t, active: true });
  }
}
