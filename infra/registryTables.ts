/**
 * The registry's DynamoDB tables (one definition with the local store: shared/registry/tables.ts),
 * what each role may do on each, and what a stack delete keeps.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { TABLE_DEFINITIONS, type TableName, TTL_ATTRIBUTE, TTL_TABLES } from '../shared/registry/tables.js';

type AttributeType = 'S' | 'N' | 'B';
const ATTRIBUTE: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/** Tables whose loss unmonitors streams or loses alarms: retained, with deletion protection. */
export const STATEFUL_TABLES: TableName[] = ['streams', 'idempotency', 'units', 'events', 'alarms', 'outbox'];

/** DynamoDB actions each role needs per table: nothing broader. */
export const WORKER_TABLE_ACTIONS: Partial<Record<TableName, string[]>> = {
  streams: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
  units: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  workers: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  health: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
  events: ['dynamodb:PutItem'],
  alarms: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  outbox: [
    'dynamodb:PutItem',
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
};
export const DISPATCHER_TABLE_ACTIONS: Partial<Record<TableName, string[]>> = {
  streams: [
    'dynamodb:PutItem',
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
  ],
  // UpdateItem: the per-owner registration counter (one item per owner and minute).
  idempotency: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  units: ['dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  workers: ['dynamodb:Query'],
  health: ['dynamodb:BatchGetItem'],
  events: ['dynamodb:PutItem', 'dynamodb:Query'],
  alarms: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  outbox: ['dynamodb:PutItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
};

/** Grants each table its actions (nothing broader). */
export function grantTables(
  tables: Record<TableName, dynamodb.Table>,
  grantee: iam.IGrantable,
  actions: Partial<Record<TableName, string[]>>,
): void {
  for (const [name, list] of Object.entries(actions) as Array<[TableName, string[]]>)
    tables[name].grant(grantee, ...list);
}

/** One registry table, retained and deletion-protected when stateful (STATEFUL_TABLES). */
export function registryTable(
  scope: Construct,
  name: TableName,
  destroyTables: boolean,
  pointInTimeRecovery: boolean,
): dynamodb.Table {
  const definition = TABLE_DEFINITIONS[name];
  const keep = !destroyTables && STATEFUL_TABLES.includes(name);
  const types = new Map(
    definition.AttributeDefinitions!.map((a) => [a.AttributeName!, a.AttributeType as AttributeType]),
  );
  const key = (role: 'HASH' | 'RANGE', schema = definition.KeySchema!) => {
    const k = schema.find((s) => s.KeyType === role);
    return k ? { name: k.AttributeName!, type: ATTRIBUTE[types.get(k.AttributeName!)!] } : undefined;
  };
  const table = new dynamodb.Table(scope, `${name[0].toUpperCase()}${name.slice(1)}Table`, {
    partitionKey: key('HASH')!,
    sortKey: key('RANGE'),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pointInTimeRecovery },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: TTL_TABLES.includes(name) ? TTL_ATTRIBUTE : undefined,
    // What users registered and what was raised outlives the stack (a delete, a replacement);
    // heartbeats and health are rewritten within seconds by whoever runs next.
    ...(keep
      ? { deletionProtection: true, removalPolicy: RemovalPolicy.RETAIN }
      : { removalPolicy: RemovalPolicy.DESTROY }),
  });
  for (const index of definition.GlobalSecondaryIndexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: index.IndexName!,
      partitionKey: key('HASH', index.KeySchema)!,
      sortKey: key('RANGE', index.KeySchema),
      projectionType: dynamodb.ProjectionType[index.Projection!.ProjectionType!],
    });
  }
  return table;
}
