/**
 * The small DynamoDB layer every registry store uses: one client (counted, for the scale
 * harness and the metrics), one conditional-write wrapper, the SDK's paginators and batched
 * reads/writes that retry what DynamoDB left unprocessed. Locally the endpoint is the embedded
 * store; on AWS the default credential chain applies.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DeleteCommand,
  DynamoDBDocumentClient,
  type PutCommand,
  paginateQuery,
  type QueryCommandInput,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { recordAwsCalls } from '../awsCallLog.js';
import type { RegistryConfig } from '../config.js';
import {
  TABLE_DEFINITIONS,
  TABLE_NAMES,
  type TableNames,
  TTL_ATTRIBUTE,
  TTL_TABLES,
  tableNames,
} from './tables.js';

type Item = Record<string, unknown>;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function isConditionFailure(e: unknown): boolean {
  return (
    e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException'
  );
}

export class Dynamo {
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly tables: TableNames;
  /** Requests sent to DynamoDB by this process (every attempt of every command). */
  calls = 0;

  constructor(config: RegistryConfig, env: Record<string, string | undefined> = process.env) {
    this.client = new DynamoDBClient({
      region: config.region,
      endpoint: config.endpoint,
      // The embedded store accepts any credentials; on AWS the default provider chain applies.
      ...(config.endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
      maxAttempts: 5,
    });
    this.client.middlewareStack.add(
      (next) => async (args) => {
        this.calls++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'streamqcCallCounter' },
    );
    recordAwsCalls(this.client, 'dynamodb');
    this.doc = DynamoDBDocumentClient.from(this.client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    this.tables = tableNames(config.tablePrefix, env);
  }

  /** Creates missing tables (local mode; on AWS the CDK stack owns them). */
  async ensureTables(): Promise<void> {
    for (const name of TABLE_NAMES) {
      const TableName = this.tables[name];
      try {
        await this.client.send(
          new CreateTableCommand({ TableName, BillingMode: 'PAY_PER_REQUEST', ...TABLE_DEFINITIONS[name] }),
        );
      } catch (e) {
        if (!(e instanceof ResourceInUseException) && (e as Error).name !== 'ResourceInUseException') throw e;
      }
      for (let i = 0; i < 100; i++) {
        const d = await this.client.send(new DescribeTableCommand({ TableName }));
        if (d.Table?.TableStatus === 'ACTIVE') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (TTL_TABLES.includes(name)) {
        await this.client
          .send(
            new UpdateTimeToLiveCommand({
              TableName,
              TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
            }),
          )
          // The embedded store has no TTL: expired items are filtered on read instead.
          .catch(() => undefined);
      }
    }
  }

  destroy(): void {
    this.doc.destroy();
    this.client.destroy();
  }

  /** Sends a conditional write: true when it was applied, false when its condition failed. */
  async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.doc.send(command as never);
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Every item a query matches, page after page (the SDK's paginator). */
  async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const out: Item[] = [];
    for await (const page of paginateQuery({ client: this.doc }, input)) out.push(...(page.Items ?? []));
    return out;
  }

  /** How many items a query matches, page after page (Select COUNT: no item is read out). */
  async count(input: QueryCommandInput): Promise<number> {
    let count = 0;
    for await (const page of paginateQuery({ client: this.doc }, { ...input, Select: 'COUNT' }))
      count += page.Count ?? 0;
    return count;
  }

  /** Puts and deletes in batches of 25, retrying what DynamoDB leaves unprocessed. */
  async batchWrite(table: string, requests: Item[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Item[] | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending?.length; attempt++) {
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = r.UnprocessedItems?.[table] as Item[] | undefined;
        if (pending?.length) await backoff(attempt);
      }
    }
  }

  /** Reads items by key in batches of 100, retrying unprocessed keys; order is not kept. */
  async batchGet(table: string, keys: Item[], consistent = false): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] | undefined = keys.slice(i, i + 100);
      for (let attempt = 0; pending?.length; attempt++) {
        const r = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: consistent } } }),
        );
        out.push(...(r.Responses?.[table] ?? []));
        pending = r.UnprocessedKeys?.[table]?.Keys as Item[] | undefined;
        if (pending?.length) await backoff(attempt);
      }
    }
    return out;
  }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
}
