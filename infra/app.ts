/** The CDK app: `npx cdk synth` / `npx cdk deploy` (see docs/aws.md). */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { projectRoot } from '../shared/projectRoot.js';
import { stackParams } from './config.js';
import { addNagSuppressions } from './nagSuppressions.js';
import { StreamqcStack } from './StreamqcStack.js';

const app = new App();
const params = stackParams(app.node);
const defaultName = params.environment === 'default' ? 'Streamqc' : `Streamqc-${params.environment}`;
const account = params.account ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = params.region ?? process.env.CDK_DEFAULT_REGION;
const stack = new StreamqcStack(app, app.node.tryGetContext('stackName') ?? defaultName, {
  params,
  repoRoot: projectRoot(),
  // An environment pins its account and region; a VPC lookup needs them too. Otherwise the
  // stack stays environment-agnostic (deployable wherever the CLI's credentials point).
  env: params.account || params.region || params.vpcId ? { account, region } : undefined,
});
addNagSuppressions(stack);
// cdk-nag's AwsSolutions pack gates synthesis: an unacknowledged finding stops here.
const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
if (!report.success) {
  for (const violation of report.violations) {
    const where = violation.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ');
    console.error(`cdk-nag: ${violation.ruleName}: ${violation.description} (${where})`);
  }
  process.exit(1);
}
app.synth();
