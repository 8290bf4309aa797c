/**
 * Secrets Manager's JSON protocol (awsJson1_1) on 127.0.0.1, for the real SDK client:
 * DescribeSecret (tags) and GetSecretValue, from a map of secrets. Unknown names answer as AWS
 * does (400 ResourceNotFoundException). Records each call (`Target SecretId`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredSecret {
  value: string;
  tags?: Record<string, string>;
}

export interface SecretsServer {
  url: string;
  calls: string[];
  secrets: Map<string, StoredSecret>;
  close(): Promise<void>;
}

export async function startSecretsServer(initial: Record<string, StoredSecret> = {}): Promise<SecretsServer> {
  const secrets = new Map(Object.entries(initial));
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      calls.push(`${target} ${SecretId}`);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const secret = SecretId ? secrets.get(SecretId) : undefined;
      if (!secret) {
        res.statusCode = 400;
        res.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
        res.end(
          JSON.stringify({
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          }),
        );
        return;
      }
      const arn = `arn:aws:secretsmanager:us-east-1:111122223333:secret:${SecretId}-AbCdEf`;
      if (target === 'DescribeSecret')
        res.end(
          JSON.stringify({
            ARN: arn,
            Name: SecretId,
            Tags: Object.entries(secret.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
      else if (target === 'GetSecretValue')
        res.end(JSON.stringify({ ARN: arn, Name: SecretId, SecretString: secret.value, VersionId: 'v1' }));
      else {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'InvalidRequestException', message: `unexpected ${target}` }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    secrets,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
