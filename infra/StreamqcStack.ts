/**
 * streamqc in a stack of its own: the `Streamqc` construct (infra/Streamqc.ts) with the
 * parameters of cdk.json and `-c` (infra/config.ts). What `npx cdk deploy` deploys.
 *
 * The construct's id is `Default`, which CDK leaves out of logical ids: the resources keep the ids
 * they had when they were defined in the stack itself, so updating a deployed stack replaces
 * nothing (a replaced table would be a new, empty registry).
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StackParams } from './config.js';
import { Streamqc } from './Streamqc.js';

export {
  METRIC_NAMESPACE,
  SHORTFALL_STEPS,
  STATEFUL_TABLES,
  STOP_TIMEOUT_SECONDS,
  Streamqc,
  type StreamqcProps,
  WORKER_IMAGE_FILES,
  workerImage,
} from './Streamqc.js';

export interface StreamqcStackProps extends StackProps {
  params: StackParams;
  /** Folder with the repository (Docker build context). */
  repoRoot: string;
}

export class StreamqcStack extends Stack {
  readonly streamqc: Streamqc;

  constructor(scope: Construct, id: string, props: StreamqcStackProps) {
    super(scope, id, props);
    this.streamqc = new Streamqc(this, 'Default', { params: props.params, repoRoot: props.repoRoot });
  }

  get tables() {
    return this.streamqc.tables;
  }
  get topic() {
    return this.streamqc.topic;
  }
  get api() {
    return this.streamqc.api;
  }
  get service() {
    return this.streamqc.service;
  }
  get dispatcher() {
    return this.streamqc.dispatcher;
  }
  get operations() {
    return this.streamqc.operations;
  }
  get mediaBucket() {
    return this.streamqc.mediaBucket;
  }
}
