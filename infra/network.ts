/**
 * Where the workers run. `public` (the default): public subnets, a public IP per task, no NAT
 * gateway — tasks accept no inbound traffic (their security group has no ingress rule) and
 * stream ingest costs nothing beyond the internet egress both layouts share. `nat`: private
 * subnets behind one NAT gateway per AZ (no single-AZ point of failure), for accounts that
 * forbid public IPs. DynamoDB and S3 gateway endpoints (free) always; interface endpoints
 * (ECR, CloudWatch Logs, SNS, ECS, Secrets Manager) on request.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StackParams } from './config.js';

const AZS = 2;

export class WorkerNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  /**
   * The interface endpoints' security group (when they exist): no ingress until the stack lets
   * the workers' group in on 443 (`allowFrom`), never a CIDR range.
   */
  readonly endpointSecurity?: ec2.SecurityGroup;

  constructor(
    scope: Construct,
    id: string,
    params: StackParams,
    retention: logs.RetentionDays,
    /** An existing VPC (the construct's `vpc` prop); else `params.vpcId` is looked up or one is made. */
    existing?: ec2.IVpc,
  ) {
    super(scope, id);
    const isPublic = params.network === 'public';
    this.assignPublicIp = isPublic;
    this.subnets = { subnetType: isPublic ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS };
    if (existing || params.vpcId) {
      // An existing VPC: its endpoints and NAT are its owner's; see docs/aws.md "Networking".
      this.vpc = existing ?? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: params.vpcId as string });
      return;
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: AZS,
      natGateways: isPublic ? 0 : AZS,
      subnetConfiguration: isPublic
        ? [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }]
        : [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
            { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          ],
      flowLogs: {
        rejected: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention }),
          ),
        },
      },
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    if (params.interfaceEndpoints) {
      const services = {
        EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
        EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
        Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
        Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
        SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      };
      this.endpointSecurity = new ec2.SecurityGroup(this, 'EndpointSecurity', {
        vpc,
        description: 'streamqc interface endpoints: HTTPS from the workers only',
        allowAllOutbound: false,
      });
      for (const [name, service] of Object.entries(services))
        vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.subnets,
          privateDnsEnabled: true,
          securityGroups: [this.endpointSecurity],
          open: false,
        });
    }
    this.vpc = vpc;
  }

  /** Lets a security group reach the interface endpoints (HTTPS). */
  allowFrom(peer: ec2.ISecurityGroup): void {
    this.endpointSecurity?.addIngressRule(peer, ec2.Port.tcp(443), 'AWS API calls from the workers');
  }
}
