/** GET /streams/{id}: the stream, where each unit runs (or why not), its health and open alarms. */
import { unitId } from '../../shared/registry/Registry.js';
import type { StreamRecord } from '../../shared/streamSpec.js';
import { resolveThresholds } from '../../shared/thresholds.js';
import type { ApiResponse } from '../types.js';
import { ownedStream, type UseCaseContext, view } from './common.js';

export async function getStream(ctx: UseCaseContext, id: string, owner: string): Promise<ApiResponse> {
  const record = await ownedStream(ctx, id, owner);
  const [assignment, health, alarms] = await Promise.all([
    assignmentOf(ctx, record),
    healthOf(ctx, record),
    ctx.registry.alarms.openFor(id),
  ]);
  return {
    status: 200,
    body: {
      ...view(record),
      // What the stream is judged by: its own thresholds over the defaults.
      thresholdsInForce: resolveThresholds(record.thresholds),
      assignment,
      health,
      openAlarms: alarms.map((a) => a.event),
    },
  };
}

/**
 * Where each unit runs: `running` on a live worker, `waiting` (with the reason and since when),
 * `moving` while the worker holding it has stopped heartbeating and is being taken over, or
 * `quarantined` when workers kept dying under it (never handed on; delete the stream to stop).
 */
async function assignmentOf({ registry }: UseCaseContext, record: StreamRecord) {
  const ids = record.units.map((u) => unitId(record.id, u.group));
  const units = new Map((await registry.units.getMany(ids)).map((u) => [u.unitId, u]));
  return Promise.all(
    record.units.map(async (u) => {
      const unit = units.get(unitId(record.id, u.group));
      const base = { group: u.group, detectors: u.detectors };
      if (unit?.holder) {
        const member = await registry.fleet.get(unit.holder);
        const workerId = member?.workerId ?? unit.holder.split('#')[0];
        const since = new Date(unit.heldSince ?? 0).toISOString();
        if (member && member.leaseUntil >= Date.now() && !member.reaped)
          return { ...base, state: 'running', workerId, since };
        return {
          ...base,
          state: 'moving',
          workerId,
          since,
          reason: `worker ${workerId} stopped heartbeating`,
        };
      }
      if (unit?.quarantined)
        return {
          ...base,
          state: 'quarantined',
          workerId: null,
          since: new Date(unit.quarantinedAt ?? 0).toISOString(),
          reason: unit.quarantined,
          strikes: unit.strikes ?? 0,
        };
      return {
        ...base,
        state: 'waiting',
        workerId: null,
        since: unit?.waitingSince ? new Date(unit.waitingSince).toISOString() : record.createdAt,
        reason: unit?.waitReason ?? 'waiting for a worker with room',
      };
    }),
  );
}

/** Each unit's last health report, by detector group. */
export async function healthOf({ registry }: UseCaseContext, record: StreamRecord) {
  const byUnit = await registry.health.getMany(record.units.map((u) => unitId(record.id, u.group)));
  return Object.fromEntries(
    record.units.flatMap((u) => {
      const h = byUnit.get(unitId(record.id, u.group));
      return h ? [[u.group, h]] : [];
    }),
  );
}
