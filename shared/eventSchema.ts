/** Runtime validation of defect events (tests, webhook receivers, replay of stored events). */
import { z } from 'zod';
import { DEFECT_TYPES } from './events.js';

export const defectEventSchema = z.strictObject({
  type: z.enum(DEFECT_TYPES),
  state: z.enum(['raised', 'cleared']),
  streamId: z.string().min(1),
  start: z.number(),
  end: z.number().nullable(),
  wallStart: z.string().optional(),
  wallEnd: z.string().optional(),
  severity: z.enum(['critical', 'major', 'minor', 'info']),
  dedupKey: z.string().min(1),
  owner: z.string().optional(),
  detail: z.record(
    z.string(),
    z.union([
      z.number(),
      z.string(),
      z.boolean(),
      z.strictObject({
        uri: z.string(),
        bandwidth: z.number(),
        resolution: z.string().optional(),
        type: z.literal('audio').optional(),
        language: z.string().optional(),
        name: z.string().optional(),
      }),
    ]),
  ),
});
