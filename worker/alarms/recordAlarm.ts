/**
 * Storing an alarm's raise or clear and publishing it: the alarm store's conditional write
 * decides whether this is the first telling (a repeat is dropped), then the event history and
 * the outbox. Shared by the units' supervisors and the agent's own monitoring events.
 */
import { DEFAULT_SEVERITY, type DefectEvent, type DetailValue } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Registry } from '../../shared/registry/Registry.js';
import type { Outbox } from '../publishers/Outbox.js';
import { dedupKey } from './dedupKey.js';

/** Where an alarm goes: its record in the registry, then the outbox. */
export interface AlarmSinks {
  registry: Registry;
  outbox: Outbox;
}

export async function recordAlarm(deps: AlarmSinks, event: DefectEvent, log: Logger): Promise<boolean> {
  const { registry, outbox } = deps;
  const first =
    event.state === 'raised' ? await registry.alarms.open(event) : await registry.alarms.close(event);
  const where = { type: event.type, state: event.state, dedupKey: event.dedupKey };
  if (!first) {
    log.info(where, 'alarm already recorded; not repeated');
    return false;
  }
  log.info({ ...where, start: event.start }, 'alarm');
  await registry.alarms.record(event);
  await outbox.submit(event);
  return true;
}

/**
 * A `stream.unmonitored` raise: the stream is registered but no worker is watching it (`reason`
 * says why: quarantined, stuck opening). `mediaTime`: where its timeline stood, when known.
 */
export function unmonitoredEvent(
  stream: { id: string; owner: string },
  reason: string,
  detail: Record<string, DetailValue> = {},
  mediaTime = 0,
  at = new Date(),
): DefectEvent {
  return {
    type: 'stream.unmonitored',
    state: 'raised',
    streamId: stream.id,
    start: Math.round(mediaTime * 1000) / 1000,
    end: null,
    wallStart: at.toISOString(),
    severity: DEFAULT_SEVERITY['stream.unmonitored'],
    dedupKey: dedupKey(stream.id, 'stream.unmonitored', at.getTime()),
    detail: { reason, ...detail },
    owner: stream.owner,
  };
}

/** The clear of a raise made by unmonitoredEvent (monitoring resumed). */
export function unmonitoredCleared(raised: DefectEvent, mediaTime: number, at = new Date()): DefectEvent {
  return {
    ...raised,
    state: 'cleared',
    end: Math.max(raised.start, Math.round(mediaTime * 1000) / 1000),
    wallEnd: at.toISOString(),
  };
}
