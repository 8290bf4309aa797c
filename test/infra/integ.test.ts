/**
 * The AWS integration test (test/infra/integ/streamqc.integ.ts). Offline, always: the integ app
 * synthesizes, with its assertions (register through the dispatcher, wait for a running worker).
 * On AWS, only with STREAMQC_INTEG_DEPLOY=1 and credentials (it deploys a stack, runs the
 * assertions there — a failed one fails the deployment — and destroys it): otherwise skipped, and
 * the skip says so.
 */
import { spawnSync } from 'node:child_process';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/runCli.js';
import { integApp } from './integ/streamqc.integ.js';

const hasCredentials = Boolean(
  process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE || process.env.AWS_WEB_IDENTITY_TOKEN_FILE,
);
const deploy = process.env.STREAMQC_INTEG_DEPLOY === '1' && hasCredentials;

describe('the integration test on AWS', () => {
  it('synthesizes offline: the construct, and assertions that register a stream and wait for it to run', () => {
    const { app, test } = integApp();
    const assembly = app.synth();
    const assertions = assembly.stacks.find((s) => s.stackName.includes('StreamqcIntegTest'));
    expect(assertions).toBeDefined();
    const t = Template.fromJSON(assertions!.template);
    const calls = Object.values(t.findResources('Custom::DeployAssert@SdkCallLambdainvoke'));
    expect(calls).toHaveLength(2);
    const register = JSON.stringify(calls[0].Properties);
    expect(register).toContain('POST');
    expect(register).toContain('Payload.body.id');
    // The second call waits (a state machine polls until the unit runs).
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(test.node.id).toBe('StreamqcIntegTest');
  });

  it.skipIf(!deploy)(
    `deploys, registers a stream and sees it running${deploy ? '' : ' (skipped: needs STREAMQC_INTEG_DEPLOY=1 and AWS credentials)'}`,
    () => {
      const app = 'npx tsx test/infra/integ/streamqc.integ.ts';
      const run = (args: string[]) =>
        spawnSync('npx', ['cdk', ...args, '--app', app, '--all'], {
          cwd: ROOT,
          stdio: 'inherit',
          timeout: 3_600_000,
        });
      try {
        expect(run(['deploy', '--require-approval', 'never']).status).toBe(0);
      } finally {
        run(['destroy', '--force']);
      }
    },
    3_600_000,
  );
});
