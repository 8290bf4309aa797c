/**
 * Hands a recorded file's pictures and sound on in media-time order. FFmpeg decodes a file as fast
 * as it can, and what reaches Node first is whichever track the muxer put first (sound often runs
 * most of a second ahead in a transport stream) and whichever pipe or log line Node happened to
 * read first: the rules that compare the tracks (av.desync pairs a flash with its beep as the
 * sound goes past it) then saw a different interleaving from run to run. Here a picture or chunk
 * waits until the other track has reached its time, so every run hands the rules the same
 * sequence, however the reads fall.
 *
 * A track that stops (a file whose sound ends early, a stretch without pictures) holds the other
 * back at most `maxLeadSeconds` of media; at the end of the run everything still held goes on, in
 * order. Live inputs do not use this: they arrive at their own pace, and holding one track for the
 * other would only delay alarms.
 */

/** Something handed on at a media time (seconds): a picture, a chunk of sound, a decoder error. */
interface Held {
  t: number;
  hand: () => void;
}

export class MediaOrder {
  private readonly videoQueue: Held[] = [];
  private readonly audioQueue: Held[] = [];

  /**
   * @param tracks which tracks the run carries: one that is absent holds nothing back
   */
  constructor(
    private readonly tracks: { video: boolean; audio: boolean },
    private readonly maxLeadSeconds = 2,
  ) {}

  /** `hand` hands on the picture (or its decoder errors) at media time t, when its turn comes. */
  video(t: number, hand: () => void): void {
    if (!this.tracks.audio) hand();
    else {
      this.videoQueue.push({ t, hand });
      this.release(false);
    }
  }

  /** `hand` hands on the sound chunk at media time t, when its turn comes. */
  audio(t: number, hand: () => void): void {
    if (!this.tracks.video) hand();
    else {
      this.audioQueue.push({ t, hand });
      this.release(false);
    }
  }

  /** The run ended: everything held goes on, in order. */
  end(): void {
    this.release(true);
  }

  private release(all: boolean): void {
    const video = this.videoQueue;
    const audio = this.audioQueue;
    for (;;) {
      const v = video[0];
      const a = audio[0];
      let next: Held | undefined;
      if (v && a) next = v.t <= a.t ? video.shift() : audio.shift();
      else if (v) {
        if (!all && video[video.length - 1].t - v.t <= this.maxLeadSeconds) return;
        next = video.shift();
      } else if (a) {
        if (!all && audio[audio.length - 1].t - a.t <= this.maxLeadSeconds) return;
        next = audio.shift();
      } else return;
      next?.hand();
    }
  }
}
