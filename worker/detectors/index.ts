/**
 * The detector registry: one line per defect type of the decoded media (delivery.* types are
 * judged by the delivery monitor, worker/delivery). Adding a detector is its file plus one line
 * here (and its rule in shared/thresholds.ts if it has tunable figures).
 */
import type { MediaType } from '../../shared/events.js';
import { BlackDetector } from './BlackDetector.js';
import { CaptionsDetector } from './CaptionsDetector.js';
import { ChannelSilenceDetector } from './ChannelSilenceDetector.js';
import { ClippingDetector } from './ClippingDetector.js';
import { CorruptionDetector } from './CorruptionDetector.js';
import { DesyncDetector } from './DesyncDetector.js';
import { FreezeDetector } from './FreezeDetector.js';
import { LoudnessDetector } from './LoudnessDetector.js';
import { MissingTrackDetector } from './MissingTrackDetector.js';
import { PhaseDetector } from './PhaseDetector.js';
import { SilenceDetector } from './SilenceDetector.js';
import { SlateDetector } from './SlateDetector.js';
import { StreamLossDetector } from './StreamLossDetector.js';
import { TransportDetector } from './TransportDetector.js';
import { TruePeakDetector } from './TruePeakDetector.js';
import type { DetectorFactory } from './types.js';

export const DETECTORS: Record<MediaType, DetectorFactory> = {
  'video.black': (c) => new BlackDetector(c),
  'video.freeze': (c) => new FreezeDetector(c),
  'video.corruption': (c) => new CorruptionDetector(c),
  'audio.silence': (c) => new SilenceDetector(c),
  'audio.clipping': (c) => new ClippingDetector(c),
  'audio.loudness': (c) => new LoudnessDetector(c),
  'av.desync': (c) => new DesyncDetector(c),
  'stream.loss': (c) => new StreamLossDetector(c),
  'audio.missing': (c) => new MissingTrackDetector(c, 'audio'),
  'video.missing': (c) => new MissingTrackDetector(c, 'video'),
  'transport.sync': (c) => new TransportDetector(c, 'transport.sync'),
  'transport.pat': (c) => new TransportDetector(c, 'transport.pat'),
  'transport.pmt': (c) => new TransportDetector(c, 'transport.pmt'),
  'transport.continuity': (c) => new TransportDetector(c, 'transport.continuity'),
  'transport.pid': (c) => new TransportDetector(c, 'transport.pid'),
  'transport.pcr': (c) => new TransportDetector(c, 'transport.pcr'),
  'transport.error': (c) => new TransportDetector(c, 'transport.error'),
  'video.slate': (c) => new SlateDetector(c),
  'audio.channel_silence': (c) => new ChannelSilenceDetector(c),
  'audio.phase': (c) => new PhaseDetector(c),
  'audio.true_peak': (c) => new TruePeakDetector(c),
  'captions.missing': (c) => new CaptionsDetector(c),
};
