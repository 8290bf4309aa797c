/**
 * The registry's DynamoDB tables: one definition used to create them locally (embedded store)
 * and mirrored by the CDK stack. Keys only; items are schemaless beyond them.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const TABLE_NAMES = [
  'streams',
  'units',
  'leases',
  'events',
  'alarms',
  'outbox',
  'idempotency',
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

export const TABLE_DEFINITIONS: Record<TableName, Definition> = {
  streams: {
    AttributeDefinitions: [
      { AttributeName: 'id', AttributeType: 'S' },
      { AttributeName: 'owner', AttributeType: 'S' },
      { AttributeName: 'createdAt', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byOwner',
        KeySchema: [
          { AttributeName: 'owner', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  },
  units: {
    AttributeDefinitions: [
      { AttributeName: 'shard', AttributeType: 'N' },
      { AttributeName: 'unitId', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'shard', KeyType: 'HASH' },
      { AttributeName: 'unitId', KeyType: 'RANGE' },
    ],
  },
  leases: {
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  },
  events: {
    AttributeDefinitions: [
      { AttributeName: 'streamId', AttributeType: 'S' },
      { AttributeName: 'at', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'streamId', KeyType: 'HASH' },
      { AttributeName: 'at', KeyType: 'RANGE' },
    ],
  },
  alarms: {
    AttributeDefinitions: [
      { AttributeName: 'streamId', AttributeType: 'S' },
      { AttributeName: 'type', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'streamId', KeyType: 'HASH' },
      { AttributeName: 'type', KeyType: 'RANGE' },
    ],
  },
  outbox: {
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  },
  idempotency: {
    AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
  },
};

/** Tables whose items expire (events after their retention, idempotency keys after a day). */
export const TTL_TABLES: TableName[] = ['events', 'idempotency'];
