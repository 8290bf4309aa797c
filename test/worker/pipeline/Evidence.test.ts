/**
 * Evidence of alarms: the picture that shows the fault (waiting for it when the raise comes
 * first), ten seconds of sound levels, or the event's counts; the same reference on the clear;
 * the thumbnail stored at most every `thumbnailSeconds`.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import type { MediaStore } from '../../../shared/media/MediaStore.js';
import { Evidence, evidenceId } from '../../../worker/pipeline/Evidence.js';

function recordingStore() {
  const puts: { key: string; body: Buffer; contentType: string }[] = [];
  const store: MediaStore = {
    put: async (key, body, contentType) => {
      puts.push({ key, body, contentType });
    },
    read: async () => null,
    bytes: async () => null,
  };
  return { store, puts };
}

/** An Evidence over a store that records its puts, storing thumbnails at most every `seconds`. */
function evidenceWith(thumbnailSeconds: number) {
  const { store, puts } = recordingStore();
  const evidence = new Evidence({
    streamId: 'st_aaaaaaaaaaaaaaaaaaaa',
    store,
    thumbnailSeconds,
    logger: pino({ level: 'silent' }),
  });
  return { evidence, puts };
}

const event = (type: DefectEvent['type'], state: 'raised' | 'cleared', start: number): DefectEvent => ({
  type,
  state,
  streamId: 'st_aaaaaaaaaaaaaaaaaaaa',
  start,
  end: state === 'cleared' ? start + 3 : null,
  severity: 'critical',
  dedupKey: `${type}:abc`,
  detail: { countDecodeErrors: 2 },
});

const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n, 0xff, 0xd9]);

describe('Evidence', () => {
  it('stores the picture showing the fault: waits for one at or after the start when the raise comes first', () => {
    const { evidence, puts } = evidenceWith(3600);
    evidence.picture(jpeg(1), 9.0);
    const raised = evidence.attach(event('video.black', 'raised', 10));
    const id = evidenceId('video.black:abc');
    expect(raised.detail.evidence).toBe(`/streams/st_aaaaaaaaaaaaaaaaaaaa/evidence/${id}.jpg`);
    // The newest picture (9 s) predates the black (10 s): nothing stored yet but the thumbnail.
    expect(puts.map((p) => p.key)).toEqual(['streams/st_aaaaaaaaaaaaaaaaaaaa/thumbnail.jpg']);
    evidence.picture(jpeg(2), 10.2);
    expect(puts.at(-1)).toEqual({
      key: `streams/st_aaaaaaaaaaaaaaaaaaaa/evidence/${id}.jpg`,
      body: jpeg(2),
      contentType: 'image/jpeg',
    });
    // The clear names the same evidence; nothing more is stored.
    const count = puts.length;
    expect(evidence.attach(event('video.black', 'cleared', 10)).detail.evidence).toBe(raised.detail.evidence);
    expect(puts.length).toBe(count);
  });

  it('keeps ten seconds of sound levels for sound rules, the counts for the rest', () => {
    const { evidence, puts } = evidenceWith(5);
    for (let i = 0; i < 120; i++) {
      const level = i < 60 ? 0.5 : 0;
      evidence.sound({
        t: i / 10,
        wallMs: 0,
        sampleRate: 48000,
        channels: 2,
        samples: new Float32Array(9600).fill(level),
      });
    }
    const silence = evidence.attach(event('audio.silence', 'raised', 6));
    expect(String(silence.detail.evidence)).toMatch(/\.json$/);
    const stored = JSON.parse(puts.at(-1)?.body.toString() ?? '{}');
    expect(stored.levels).toHaveLength(100);
    expect(stored.levels[0]).toEqual({ t: 2, rmsDb: -6, peakDb: -6 });
    expect(stored.levels.at(-1)).toEqual({ t: 11.9, rmsDb: -120, peakDb: -120 });

    evidence.attach(event('transport.continuity', 'raised', 3));
    const counts = JSON.parse(puts.at(-1)?.body.toString() ?? '{}');
    expect(counts).toEqual({
      type: 'transport.continuity',
      streamId: 'st_aaaaaaaaaaaaaaaaaaaa',
      start: 3,
      detail: { countDecodeErrors: 2 },
    });

    // A figure quoting a URL with credentials is stored masked, as every answer shows it.
    evidence.attach({
      ...event('delivery.segment_error', 'raised', 4),
      detail: { reason: 'GET https://cdn.example.com/seg1.ts?token=s3cr3t answered 404' },
    });
    const masked = puts.at(-1)?.body.toString() ?? '';
    expect(masked).not.toContain('s3cr3t');
  });

  it('stores the thumbnail at most every thumbnailSeconds', () => {
    const { evidence, puts } = evidenceWith(3600);
    for (let i = 0; i < 10; i++) evidence.picture(jpeg(i), i);
    expect(puts.filter((p) => p.key.endsWith('thumbnail.jpg'))).toHaveLength(1);
  });
});
