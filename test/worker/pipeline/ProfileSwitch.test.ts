/**
 * The decode profile across converter runs: asked once, a file continued one replay window back
 * with the replayed media for the asking rule alone, a live source simply started again.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ProfileSwitch } from '../../../worker/pipeline/ProfileSwitch.js';

const logger = pino({ level: 'silent' });

describe('ProfileSwitch', () => {
  it('continues a file 20 s before the newest picture, replaying that window to the asking rule only', () => {
    const profile = new ProfileSwitch(false, true, logger);
    expect(profile.skipNonReference).toBe(true);
    for (let t = 0; t <= 30; t += 0.5) expect(profile.pictureOnlyFor(t)).toBeNull();
    for (let t = 0; t <= 30.2; t += 0.1) expect(profile.soundOnlyFor(t)).toBeNull();
    expect(profile.continueFrom()).toBeNull();

    expect(profile.ask('av.desync', 'flashes on skipped pictures')).toBe(true);
    expect(profile.ask('av.desync', 'again')).toBe(false);
    expect(profile.skipNonReference).toBe(false);
    expect(profile.continueFrom()).toEqual({ rule: 'av.desync', seekSeconds: 10 });
    expect(profile.continueFrom()).toBeNull();

    expect(profile.pictureOnlyFor(10)).toBe('av.desync');
    expect(profile.pictureOnlyFor(30)).toBe('av.desync');
    expect(profile.replaying(29.9)).toBe(true);
    expect(profile.soundOnlyFor(30.1)).toBe('av.desync');
    // Past what every rule has seen: for every rule again.
    expect(profile.pictureOnlyFor(30.04)).toBeNull();
    expect(profile.soundOnlyFor(30.3)).toBeNull();
    expect(profile.replaying(31)).toBe(false);
  });

  it('seeks a short file to its start', () => {
    const profile = new ProfileSwitch(false, true, logger);
    profile.pictureOnlyFor(6);
    profile.ask('av.desync', 'a range of offsets');
    expect(profile.continueFrom()?.seekSeconds).toBe(0);
  });

  it('starts a live source again where it is, replaying nothing', () => {
    const profile = new ProfileSwitch(false, false, logger);
    profile.pictureOnlyFor(100);
    profile.ask('av.desync', 'a range of offsets');
    expect(profile.continueFrom()).toEqual({ rule: 'av.desync', seekSeconds: null });
    expect(profile.pictureOnlyFor(50)).toBeNull();
  });

  it('never switches a stream already decoding every picture', () => {
    const profile = new ProfileSwitch(true, true, logger);
    expect(profile.skipNonReference).toBe(false);
    expect(profile.ask('av.desync', 'anything')).toBe(false);
    expect(profile.continueFrom()).toBeNull();
  });
});
