/** DELETE /streams/{id}: the stream stops being monitored; its open alarms are cleared and sent. */
import type { DefectEvent } from '../../shared/events.js';
import { ALL_SINKS } from '../../shared/registry/outbox.js';
import { ApiError, type ApiResponse } from '../types.js';
import { STREAM_ID, shown, type UseCaseContext } from './common.js';
import { healthOf } from './getStream.js';

export async function deleteStream(ctx: UseCaseContext, id: string, owner: string): Promise<ApiResponse> {
  const { registry, logger } = ctx;
  if (!STREAM_ID.test(id)) throw new ApiError(404, 'not_found', `no stream ${shown(id)}`);
  const record = await registry.streams.delete(id, owner);
  if (!record) throw new ApiError(404, 'not_found', `no stream ${shown(id)}`);
  let cleared = 0;
  const mediaTime = Math.max(0, ...Object.values(await healthOf(ctx, record)).map((h) => h.mediaTime ?? 0));
  for (const alarm of await registry.alarms.openFor(id)) {
    const event: DefectEvent = {
      ...alarm.event,
      state: 'cleared',
      end: Math.max(alarm.event.start, mediaTime),
      wallEnd: new Date().toISOString(),
      detail: { ...alarm.event.detail, reason: 'stream deleted' },
      owner: record.owner,
    };
    if (!(await registry.alarms.close(event))) continue;
    await registry.alarms.record(event);
    await registry.outbox.enqueue(event, [ALL_SINKS]);
    cleared++;
  }
  logger.info({ streamId: id, owner, clearedAlarms: cleared }, 'stream deleted');
  return { status: 200, body: { id, state: 'deleted', clearedAlarms: cleared } };
}
