/** One incident per cause (worker/alarms/Inhibitor.ts): symptoms of an open cause are held back. */
import { describe, expect, it } from 'vitest';
import { DEFECT_TYPES, type DefectEvent, type DefectType } from '../../../shared/events.js';
import { Inhibitor } from '../../../worker/alarms/Inhibitor.js';

function event(
  type: DefectType,
  state: 'raised' | 'cleared',
  start: number,
  rendition?: string,
): DefectEvent {
  return {
    type,
    state,
    streamId: 's',
    start,
    end: state === 'cleared' ? start + 1 : null,
    severity: 'major',
    dedupKey: `${type}:${rendition ?? ''}:${start}`,
    detail: rendition ? { rendition: { uri: rendition, bandwidth: 0 } } : {},
  };
}

function setup(enabled: readonly DefectType[] = DEFECT_TYPES, wait = 4, clearDelay = 0) {
  const sent: DefectEvent[] = [];
  const inhibitor = new Inhibitor(
    (e) => sent.push(e),
    enabled,
    () => wait,
    () => clearDelay,
  );
  const story = () => sent.map((e) => `${e.state} ${e.type}`);
  return { sent, inhibitor, story };
}

describe('inhibition', () => {
  it("the stream's slate on screen holds back the freeze and silence it makes; a freeze past it is raised", () => {
    const { sent, inhibitor, story } = setup();
    inhibitor.push(event('video.slate', 'raised', 20), 0);
    inhibitor.push(event('audio.silence', 'raised', 20.2), 200);
    inhibitor.push(event('video.freeze', 'raised', 21), 1000);
    inhibitor.push(event('audio.silence', 'cleared', 20.2), 9000);
    inhibitor.push(event('video.slate', 'cleared', 20), 9000);
    // The picture stays frozen after the slate went: no longer the slate, a defect.
    for (let t = 9000; t < 20_000; t += 500) inhibitor.tick(t);
    expect(story()).toEqual(['raised video.slate', 'cleared video.slate', 'raised video.freeze']);
    expect(sent[1].detail).toMatchObject({ inhibited: 'audio.silence, video.freeze' });
  });

  it('holds back symptoms raised and cleared during an outage; the loss clear names them', () => {
    const { sent, inhibitor, story } = setup();
    inhibitor.push(event('stream.loss', 'raised', 10), 0);
    inhibitor.push(event('delivery.variant_missing', 'raised', 11, 'r1'), 1000);
    inhibitor.push(event('transport.continuity', 'raised', 12), 2000);
    inhibitor.push(event('delivery.variant_missing', 'cleared', 11, 'r1'), 8000);
    inhibitor.push(event('stream.loss', 'cleared', 10), 12_000);
    inhibitor.push(event('transport.continuity', 'cleared', 12), 15_000);
    for (let t = 12_000; t < 40_000; t += 500) inhibitor.tick(t);

    expect(story()).toEqual(['raised stream.loss', 'cleared stream.loss']);
    expect(sent[1].detail).toMatchObject({
      inhibited: 'delivery.variant_missing, transport.continuity',
      inhibitedCount: 2,
    });
  });

  it('a symptom that came before its cause waits for it and is then held back', () => {
    const { inhibitor, story } = setup();
    inhibitor.push(event('delivery.segment_error', 'raised', 5, 'r0'), 0);
    inhibitor.tick(2000);
    inhibitor.push(event('stream.loss', 'raised', 6), 3000);
    inhibitor.tick(3500);
    inhibitor.push(event('delivery.segment_error', 'cleared', 5, 'r0'), 9000);
    inhibitor.push(event('stream.loss', 'cleared', 6), 10_000);
    for (let t = 10_000; t < 30_000; t += 500) inhibitor.tick(t);

    expect(story()).toEqual(['raised stream.loss', 'cleared stream.loss']);
  });

  it('without a cause, a waiting symptom is sent when the wait ends; its clear follows as usual', () => {
    const { sent, inhibitor, story } = setup();
    inhibitor.push(event('delivery.segment_error', 'raised', 5, 'r0'), 0);
    inhibitor.tick(3500);
    expect(sent).toEqual([]);
    inhibitor.tick(4000);
    expect(story()).toEqual(['raised delivery.segment_error']);
    inhibitor.push(event('delivery.segment_error', 'cleared', 5, 'r0'), 20_000);
    expect(story()).toEqual(['raised delivery.segment_error', 'cleared delivery.segment_error']);
  });

  it('a clear while waiting sends the raise and the clear: nothing real is hidden', () => {
    const { inhibitor, story } = setup();
    inhibitor.push(event('transport.pcr', 'raised', 5), 0);
    inhibitor.push(event('transport.pcr', 'cleared', 5), 2000);
    expect(story()).toEqual(['raised transport.pcr', 'cleared transport.pcr']);
  });

  it('a symptom that outlasts the outage and its hold is raised then, with its own start', () => {
    const { sent, inhibitor, story } = setup();
    inhibitor.push(event('stream.loss', 'raised', 10), 0);
    inhibitor.push(event('delivery.variant_missing', 'raised', 11, 'r2'), 1000);
    inhibitor.push(event('stream.loss', 'cleared', 10), 12_000);
    for (let t = 12_000; t < 21_500; t += 500) inhibitor.tick(t);
    expect(story()).toEqual(['raised stream.loss', 'cleared stream.loss']);
    inhibitor.tick(22_000);
    expect(story()).toEqual(['raised stream.loss', 'cleared stream.loss', 'raised delivery.variant_missing']);
    expect(sent[2].start).toBe(11);
    inhibitor.push(event('delivery.variant_missing', 'cleared', 11, 'r2'), 30_000);
    expect(story().at(-1)).toBe('cleared delivery.variant_missing');
  });

  it('a symptom that ended with its cause but clears later (a flapping alarm) is never paged', () => {
    // Transport alarms: 5 s quiet to clear, a whole 10 s flap window when flapping.
    const { inhibitor, story } = setup(DEFECT_TYPES, 4, 10);
    inhibitor.push(event('transport.sync', 'raised', 10), 0);
    inhibitor.push(event('transport.continuity', 'raised', 10), 500);
    // Both conditions end at 14 s; sync clears 5 s later, the flapping continuity 10 s later
    // (a tick after the sync's own 5 s hold).
    inhibitor.push(event('transport.sync', 'cleared', 10), 19_000);
    for (let t = 19_000; t <= 24_000; t += 500) inhibitor.tick(t);
    inhibitor.push(event('transport.continuity', 'cleared', 10), 24_100);
    for (let t = 24_000; t < 40_000; t += 500) inhibitor.tick(t);
    expect(story()).toEqual(['raised transport.sync', 'cleared transport.sync']);
  });

  it('a symptom still open past its own clear delay after the cause is raised then', () => {
    const { inhibitor, story } = setup(DEFECT_TYPES, 4, 10);
    inhibitor.push(event('transport.sync', 'raised', 10), 0);
    inhibitor.push(event('transport.continuity', 'raised', 10), 500);
    inhibitor.push(event('transport.sync', 'cleared', 10), 19_000);
    for (let t = 19_000; t < 30_500; t += 500) inhibitor.tick(t);
    expect(story()).toEqual(['raised transport.sync', 'cleared transport.sync']);
    inhibitor.tick(31_000);
    expect(story().at(-1)).toBe('raised transport.continuity');
  });

  it('a symptom raised after its cause cleared is a fault of its own once it outlasts the hold', () => {
    const { inhibitor, story } = setup(DEFECT_TYPES, 4, 10);
    inhibitor.push(event('transport.sync', 'raised', 10), 0);
    inhibitor.push(event('transport.sync', 'cleared', 10), 19_000);
    inhibitor.push(event('transport.pat', 'raised', 24), 20_000);
    for (let t = 19_000; t < 24_000; t += 500) inhibitor.tick(t);
    expect(story()).toEqual(['raised transport.sync', 'cleared transport.sync']);
    inhibitor.tick(24_000);
    expect(story().at(-1)).toBe('raised transport.pat');
  });

  it("a rendition's cause holds back that rendition's symptoms only", () => {
    const { sent, inhibitor } = setup();
    inhibitor.push(event('transport.sync', 'raised', 10, 'r0'), 0);
    inhibitor.push(event('transport.continuity', 'raised', 10, 'r0'), 100);
    inhibitor.push(event('transport.continuity', 'raised', 10, 'r1'), 100);
    // (Transport symptoms also wait for a loss of the stream first: 4 s here.)
    inhibitor.tick(4100);
    expect(sent.map((e) => `${e.state} ${e.type} ${(e.detail.rendition as { uri: string }).uri}`)).toEqual([
      'raised transport.sync r0',
      'raised transport.continuity r1',
    ]);
  });

  it('a cause restored after a restart holds back as before', () => {
    const { inhibitor, story } = setup();
    inhibitor.restore(event('stream.loss', 'raised', 10));
    inhibitor.push(event('delivery.sequence', 'raised', 12, 'r0'), 0);
    inhibitor.tick(10_000);
    expect(story()).toEqual([]);
  });

  it('a rule whose cause this stream does not run holds nothing back', () => {
    const { inhibitor, story } = setup(['delivery.segment_error', 'transport.continuity']);
    inhibitor.push(event('delivery.segment_error', 'raised', 5, 'r0'), 0);
    inhibitor.push(event('transport.continuity', 'raised', 5), 0);
    expect(story()).toEqual(['raised delivery.segment_error', 'raised transport.continuity']);
  });
});
