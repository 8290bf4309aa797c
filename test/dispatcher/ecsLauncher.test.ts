/** EcsLauncher over the ECS JSON wire protocol, against a local endpoint: it only ever raises the count. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsLauncher } from '../../dispatcher/launcher.js';

const calls: { target: string; body: Record<string, unknown> }[] = [];
let desired = 2;
const running = 2;
let throttleNext = false;
const server = createServer((req, res) => {
  let text = '';
  req.on('data', (c) => {
    text += c;
  });
  req.on('end', () => {
    const target = String(req.headers['x-amz-target']);
    const body = JSON.parse(text);
    calls.push({ target, body });
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
          services: [{ serviceName: 'workers', desiredCount: desired, runningCount: running }],
          failures: [],
        }),
      );
    } else if (target.endsWith('.UpdateService')) {
      desired = Number(body.desiredCount);
      res.end(JSON.stringify({ service: { serviceName: 'workers', desiredCount: desired } }));
    } else {
      res.statusCode = 400;
      res.end(JSON.stringify({ __type: 'UnknownOperationException' }));
    }
  });
});
let launcher: EcsLauncher;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ecs = new ECSClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 3,
  });
  launcher = new EcsLauncher(ecs, 'streamqc', 'workers');
});
afterAll(() => {
  server.close();
});

describe('EcsLauncher', () => {
  it('raises the service desired count when more workers are needed, retrying a throttled call', async () => {
    throttleNext = true;

    // 2 running, 20 units waiting at 8 per worker: 3 more workers.
    await launcher.ensureCapacity({ waitingUnits: 20, budget: 8, minWorkers: 1, maxWorkers: 10 });

    const updates = calls.filter((c) => c.target.endsWith('.UpdateService'));
    expect(calls[0].target).toBe('AmazonEC2ContainerServiceV20141113.DescribeServices');
    expect(calls[1].target).toBe('AmazonEC2ContainerServiceV20141113.DescribeServices');
    expect(updates).toHaveLength(1);
    expect(updates[0].body).toEqual({ cluster: 'streamqc', service: 'workers', desiredCount: 5 });
    expect(desired).toBe(5);
  });

  it('never lowers the count: scale-in belongs to the autoscaler', async () => {
    calls.length = 0;

    await launcher.ensureCapacity({ waitingUnits: 0, budget: 8, minWorkers: 1, maxWorkers: 10 });

    expect(calls.map((c) => c.target.split('.')[1])).toEqual(['DescribeServices']);
    expect(desired).toBe(5);
  });
});
