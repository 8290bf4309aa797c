/** Work units: a stream split by detector groups. */
import { describe, expect, it } from 'vitest';
import { parseDetectorGroups, workUnits } from '../../shared/workUnits.js';

describe('detector groups', () => {
  it('splits a stream into one unit per group, or keeps one unit by default', () => {
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
  });
});
