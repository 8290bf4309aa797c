/** The CDK app: `npx cdk synth` / `npx cdk deploy` (see README, "Deploy on AWS"). */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { projectRoot } from '../shared/projectRoot.js';
import { stackParams } from './config.js';
import { addNagSuppressions } from './nagSuppressions.js';
import { StreamqcStack } from './StreamqcStack.js';

const app = new App();
const params = stackParams(app.node);
const stack = new StreamqcStack(app, app.node.tryGetContext('stackName') ?? 'Streamqc', {
  params,
  repoRoot: projectRoot(),
  // A VPC lookup needs a concrete account and region; a new VPC keeps the stack environment-agnostic.
  env: params.vpcId
    ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
    : undefined,
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
