/**
 * The integration test on AWS (`@aws-cdk/integ-tests-alpha`): a stack with the `Streamqc`
 * construct, and assertions that run in the account after deployment — register a stream through
 * the dispatcher (an HTTP API event signed as an IAM caller), then wait until its health says a
 * worker on ECS is running it. Deployed only by test/infra/integ.test.ts with
 * STREAMQC_INTEG_DEPLOY=1 and AWS credentials:
 *   npx cdk deploy --app 'npx tsx test/infra/integ/streamqc.integ.ts' --all --require-approval never
 * The source is a public HLS test stream (`-c integSource=<url>` for another one).
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Streamqc } from '../../../infra/Streamqc.js';

export const DEFAULT_SOURCE = 'https://test-streams.mux.dev/x36xhzz/x36xhzz.m3u8';
const CALLER = 'arn:aws:iam::111122223333:role/streamqc-integ';

/** An HTTP API (payload 2.0) event as API Gateway hands it to the dispatcher. */
function apiEvent(method: string, path: string, body?: unknown) {
  return {
    version: '2.0',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method }, authorizer: { iam: { userArn: CALLER } } },
    ...(body === undefined ? {} : { body: JSON.stringify(body), isBase64Encoded: false }),
  };
}

export function integApp(app = new App()): { app: App; stack: Stack; test: IntegTest } {
  const source = (app.node.tryGetContext('integSource') as string | undefined) ?? DEFAULT_SOURCE;
  const stack = new Stack(app, 'StreamqcInteg');
  const streamqc = new Streamqc(stack, 'Monitor', {
    params: { minTasks: 1, maxTasks: 2, logRetentionDays: 1, environment: 'integ' },
    // A test stack leaves nothing behind.
    tables: { destroy: true },
  });
  const test = new IntegTest(app, 'StreamqcIntegTest', { testCases: [stack], diffAssets: false });

  const register = test.assertions.invokeFunction({
    functionName: streamqc.dispatcher.functionName,
    payload: JSON.stringify(apiEvent('POST', '/streams', { url: source, name: 'integ' })),
  });
  register.assertAtPath('Payload.statusCode', ExpectedResult.exact(201));
  const id = register.getAttString('Payload.body.id');

  const health = test.assertions.invokeFunction({
    functionName: streamqc.dispatcher.functionName,
    payload: stack.toJsonString(apiEvent('GET', `/streams/${id}`)),
  });
  health.assertAtPath('Payload.body.health.all.state', ExpectedResult.exact('running')).waitForAssertions({
    totalTimeout: Duration.minutes(15),
    interval: Duration.seconds(30),
  });
  register.next(health);
  return { app, stack, test };
}

if (process.argv[1]?.endsWith('streamqc.integ.ts')) integApp().app.synth();
