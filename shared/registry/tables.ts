/**
 * The registry's DynamoDB tables, one per access pattern: one definition used to create them
 * locally (embedded store) and mirrored by the CDK stack. Keys and indexes only; items are
 * schemaless beyond them. Every index projects keys only: whoever needs the item reads it by key.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const TABLE_NAMES = [
  'streams',
  'idempotency',
  'units',
  'workers',
  'health',
  'events',
  'alarms',
  'outbox',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];
export type TableNames = Record<TableName, string>;

/** Table names: STREAMQC_TABLE_<NAME> when set (CDK passes these), else `<prefix>-<name>`. */
export function tableNames(
  prefix: string,
  env: Record<string, string | undefined> = process.env,
): TableNames {
  return Object.fromEntries(
    TABLE_NAMES.map((t) => [t, env[`STREAMQC_TABLE_${t.toUpperCase()}`] || `${prefix}-${t}`]),
  ) as TableNames;
}

/** Attribute that holds an item's expiry (epoch seconds) where DynamoDB TTL is enabled. */
export const TTL_ATTRIBUTE = 'expiresAt';

type Definition = Omit<CreateTableCommandInput, 'TableName' | 'BillingMode'>;

const S = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
const N = (name: string) => ({ AttributeName: name, AttributeType: 'N' as const });
const HASH = (name: string) => ({ AttributeName: name, KeyType: 'HASH' as const });
const RANGE = (name: string) => ({ AttributeName: name, KeyType: 'RANGE' as const });
const keysOnly = (IndexName: string, hash: string, range: string) => ({
  IndexName,
  KeySchema: [HASH(hash), RANGE(range)],
  Projection: { ProjectionType: 'KEYS_ONLY' as const },
});

export const TABLE_DEFINITIONS: Record<TableName, Definition> = {
  // Written on register/delete only; listed per owner through a keys-only index.
  streams: {
    AttributeDefinitions: [S('id'), S('owner'), S('createdAt')],
    KeySchema: [HASH('id')],
    GlobalSecondaryIndexes: [keysOnly('byOwner', 'owner', 'createdAt')],
  },
  idempotency: { AttributeDefinitions: [S('key')], KeySchema: [HASH('key')] },
  // One item per work unit, holding its lease. Sparse indexes: `pool` exists only while the unit
  // waits for a worker, `holder` only while one runs it.
  units: {
    AttributeDefinitions: [S('unitId'), S('pool'), S('holder')],
    KeySchema: [HASH('unitId')],
    GlobalSecondaryIndexes: [keysOnly('waiting', 'pool', 'unitId'), keysOnly('byHolder', 'holder', 'unitId')],
  },
  // Worker heartbeats, one ring: each worker watches the next one (by id) and takes over its units.
  workers: { AttributeDefinitions: [S('ring'), S('memberId')], KeySchema: [HASH('ring'), RANGE('memberId')] },
  // What each unit is doing, written on change (and once a minute), expiring when nobody writes it.
  health: { AttributeDefinitions: [S('unitId')], KeySchema: [HASH('unitId')] },
  events: { AttributeDefinitions: [S('streamId'), S('at')], KeySchema: [HASH('streamId'), RANGE('at')] },
  alarms: { AttributeDefinitions: [S('streamId'), S('type')], KeySchema: [HASH('streamId'), RANGE('type')] },
  // Undelivered events, found through the `due` index (bucket, due time), never by a scan.
  outbox: {
    AttributeDefinitions: [S('id'), S('bucket'), N('dueAt')],
    KeySchema: [HASH('id')],
    GlobalSecondaryIndexes: [keysOnly('due', 'bucket', 'dueAt')],
  },
};

/** Tables whose items expire. */
export const TTL_TABLES: TableName[] = ['events', 'idempotency', 'health', 'workers', 'alarms'];
