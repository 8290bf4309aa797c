/**
 * The fleet check's view of ECS, over the ECS JSON wire protocol against a local endpoint: it
 * reads the service's counts (retrying a throttled call) and never changes them — Application
 * Auto Scaling owns the task count.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsTaskCounts, tasksShort } from '../../dispatcher/launcher.js';

const calls: string[] = [];
let throttleNext = false;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const target = String(req.headers['x-amz-target']);
    calls.push(target.split('.')[1]);
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (throttleNext) {
      throttleNext = false;
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
      return;
    }
    if (target.endsWith('.DescribeServices')) {
      res.end(
        JSON.stringify({
          services: [{ serviceName: 'workers', desiredCount: 5, runningCount: 3 }],
          failures: [],
        }),
      );
      return;
    }
    res.statusCode = 400;
    res.end(JSON.stringify({ __type: 'UnknownOperationException' }));
  });
});
let counts: ReturnType<typeof ecsTaskCounts>;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const ecs = new ECSClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 3,
  });
  counts = ecsTaskCounts(ecs, 'streamqc', 'workers');
});
afterAll(() => {
  server.close();
});

describe('the ECS task counts', () => {
  it('are read with DescribeServices only, retrying a throttled call', async () => {
    throttleNext = true;

    const read = await counts();

    expect(read).toEqual({ running: 3, desired: 5 });
    expect(calls).toEqual(['DescribeServices', 'DescribeServices']);
  });

  it('turn waiting units into the tasks still missing, after those already starting', () => {
    // 20 units waiting at 6 per task need 4 tasks; 2 are starting (desired 5, running 3).
    expect(tasksShort({ running: 3, desired: 5 }, 20, 6)).toBe(2);
    expect(tasksShort({ running: 3, desired: 5 }, 6, 6)).toBe(0);
    expect(tasksShort({ running: 5, desired: 5 }, 0, 6)).toBe(0);
  });
});
