/** A recorded file's pictures and sound go on in media-time order (MediaOrder.ts). */
import { describe, expect, it } from 'vitest';
import { MediaOrder } from '../../../worker/converter/MediaOrder.js';

/** An order whose output is written down as `v1.04` / `a1.00`. */
function recorded(tracks = { video: true, audio: true }, maxLead = 2) {
  const out: string[] = [];
  const order = new MediaOrder(tracks, maxLead);
  return {
    out,
    order,
    video: (t: number) => order.video(t, () => out.push(`v${t.toFixed(2)}`)),
    audio: (t: number) => order.audio(t, () => out.push(`a${t.toFixed(2)}`)),
  };
}

describe('MediaOrder', () => {
  it('interleaves by media time, whichever track arrives first and however far ahead', () => {
    const { out, video, audio, order } = recorded();
    // A second of sound first (a transport stream's muxer puts it ahead), then the pictures.
    for (let t = 0; t < 1; t += 0.25) audio(t);
    expect(out).toEqual([]);
    for (let t = 0; t < 1; t += 0.2) video(t);
    order.end();
    expect(out).toEqual(['v0.00', 'a0.00', 'v0.20', 'a0.25', 'v0.40', 'a0.50', 'v0.60', 'a0.75', 'v0.80']);
  });

  it('holds a track back at most maxLead seconds for one that has stopped', () => {
    const { out, video, audio } = recorded();
    video(0);
    audio(0);
    for (let t = 0.5; t <= 3; t += 0.5) video(t);
    // Sound stopped after 0: a held picture goes once a newer one is more than 2 s past it.
    expect(out).toEqual(['v0.00', 'a0.00', 'v0.50']);
    video(3.5);
    expect(out).toEqual(['v0.00', 'a0.00', 'v0.50', 'v1.00']);
  });

  it('a run without one of the tracks holds nothing', () => {
    const soundOnly = recorded({ video: false, audio: true });
    soundOnly.audio(0);
    soundOnly.audio(0.1);
    expect(soundOnly.out).toEqual(['a0.00', 'a0.10']);
    const picturesOnly = recorded({ video: true, audio: false });
    picturesOnly.video(0);
    expect(picturesOnly.out).toEqual(['v0.00']);
  });
});
