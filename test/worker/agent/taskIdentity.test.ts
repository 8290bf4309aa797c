/** A worker on ECS names itself by its task ARN, read from the task metadata endpoint (v4). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsTaskArn } from '../../../worker/agent/taskIdentity.js';

const ARN = 'arn:aws:ecs:eu-west-1:111122223333:task/streamqc-cluster/0123456789abcdef0123456789abcdef';
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/v4/ok/task') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Cluster: 'streamqc-cluster', TaskARN: ARN, Family: 'worker' }));
    } else if (req.url === '/v4/slow/task') {
      // Never answers: the worker must not wait for it.
    } else {
      res.statusCode = 500;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('the worker id on ECS', () => {
  it('is the task ARN from the metadata endpoint', async () => {
    expect(await ecsTaskArn({ ECS_CONTAINER_METADATA_URI_V4: `${base}/ok` })).toBe(ARN);
  });

  it('is not known outside ECS, or when the endpoint fails or does not answer in time', async () => {
    expect(await ecsTaskArn({})).toBeNull();
    expect(await ecsTaskArn({ ECS_CONTAINER_METADATA_URI_V4: `${base}/broken` })).toBeNull();
    expect(await ecsTaskArn({ ECS_CONTAINER_METADATA_URI_V4: `${base}/slow` }, 200)).toBeNull();
  });
});
