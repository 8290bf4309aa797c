/**
 * The registry: one store per aggregate over one DynamoDB client. Locally the same code talks to
 * the embedded DynamoDB-compatible store; on AWS to the tables the CDK stack creates.
 */
import type { RegistryConfig } from '../config.js';
import { AlarmStore } from './alarms.js';
import { Dynamo } from './dynamo.js';
import { FleetStore } from './fleet.js';
import { HealthStore } from './health.js';
import { OutboxStore } from './outbox.js';
import { StreamStore } from './streams.js';
import { UnitStore } from './units.js';

export type { OpenAlarmItem } from './alarms.js';
export type { Member } from './fleet.js';
export type { OutboxItem } from './outbox.js';
export type { UnitItem } from './units.js';
export { unitId } from './units.js';

export class Registry {
  readonly db: Dynamo;
  readonly streams: StreamStore;
  readonly units: UnitStore;
  readonly fleet: FleetStore;
  readonly health: HealthStore;
  readonly alarms: AlarmStore;
  readonly outbox: OutboxStore;

  constructor(
    /** Where the tables are (kept so a worker's lease thread can reach the same ones). */
    readonly config: RegistryConfig,
    readonly env: Record<string, string | undefined> = process.env,
  ) {
    this.db = new Dynamo(config, env);
    this.units = new UnitStore(this.db);
    this.streams = new StreamStore(this.db, this.units);
    this.fleet = new FleetStore(this.db);
    this.health = new HealthStore(this.db);
    this.alarms = new AlarmStore(this.db);
    this.outbox = new OutboxStore(this.db);
  }

  /** Creates missing tables (local mode; on AWS the CDK stack owns them). */
  ensureTables(): Promise<void> {
    return this.db.ensureTables();
  }

  /** DynamoDB requests this process has sent. */
  get calls(): number {
    return this.db.calls;
  }

  destroy(): void {
    this.db.destroy();
  }
}
