/**
 * Evaluates recorded AWS calls (shared/awsCallLog.ts) against the IAM policies of a synthesized
 * CloudFormation template: which role may call what, on which resource. Identity policies only
 * (Allow statements with actions and resources; conditions are not evaluated), which is what the
 * stack grants its roles with.
 */
import type { AwsCall } from '../../shared/awsCallLog.js';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Cfn = Record<string, any>;

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** What a role needs for one call: the action on one resource ARN (rendered with logical ids). */
export interface Need {
  role: string;
  action: string;
  arn: string;
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': 'REGION',
  'AWS::AccountId': 'ACCOUNT',
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'STACK',
};

/** A resource's ARN as this evaluator writes it: the logical id stands for the physical name. */
export function arnOf(template: Cfn, logicalId: string): string {
  const type = template.Resources[logicalId]?.Type as string | undefined;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:REGION:ACCOUNT:table/${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:REGION:ACCOUNT:${logicalId}`;
    case 'AWS::ECS::Service':
      return `arn:aws:ecs:REGION:ACCOUNT:service/${logicalId}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${logicalId}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:REGION:ACCOUNT:key/${logicalId}`;
    default:
      return logicalId;
  }
}

/** Renders a CloudFormation value (Ref, GetAtt Arn, Join) to a string with logical ids. */
export function render(template: Cfn, value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Cfn;
  if (v.Ref) return PSEUDO[v.Ref] ?? arnOf(template, v.Ref);
  if (v['Fn::GetAtt']) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    return attribute === 'Arn' ? arnOf(template, id) : `${id}.${attribute}`;
  }
  if (v['Fn::Join']) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(template, p)).join(separator);
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** Every statement of the identity policies attached to a role (by the role's logical id). */
export function statementsOfRole(template: Cfn, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const resource of Object.values(template.Resources) as Cfn[]) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties.Roles ?? []) as Cfn[];
    if (roles.some((r) => r.Ref === roleLogicalId)) out.push(...resource.Properties.PolicyDocument.Statement);
  }
  const inline = (template.Resources[roleLogicalId]?.Properties?.Policies ?? []) as Cfn[];
  for (const policy of inline) out.push(...policy.PolicyDocument.Statement);
  return out;
}

const glob = (pattern: string, text: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(text);

/** Whether the statements allow the action on the ARN. */
export function allows(template: Cfn, statements: Statement[], action: string, arn: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow') return false;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    if (!actions.some((a) => glob(a.toLowerCase(), action.toLowerCase()))) return false;
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    return resources.some((r) => glob(render(template, r), arn));
  });
}

/** How the physical names a test run used map to the template's logical ids. */
export interface NameMap {
  /** Physical table name → table logical id. */
  tables: Record<string, string>;
  /** Topic ARN used in the run → topic logical id. */
  topics: Record<string, string>;
  /** `service/<cluster>/<service>` used in the run → service logical id. */
  services: Record<string, string>;
  /** Role name in the call log → role logical id. */
  roles: Record<string, string>;
  /** Bucket name used in the run → bucket logical id. */
  buckets?: Record<string, string>;
}

/**
 * What each recorded call needs of its role. Publishing to a KMS-encrypted topic also needs the
 * key: SNS uses it on the caller's behalf.
 */
export function needsOf(template: Cfn, calls: AwsCall[], names: NameMap): Need[] {
  const needs = new Map<string, Need>();
  const add = (need: Need) => needs.set(`${need.role} ${need.action} ${need.arn}`, need);
  for (const call of calls) {
    const role = names.roles[call.role] ?? `unknown role "${call.role}"`;
    for (const resource of call.resources) {
      const table = /^table\/([^/]+)(\/index\/.+)?$/.exec(resource);
      if (table) {
        const id = names.tables[table[1]] ?? `unknown table ${table[1]}`;
        add({ role, action: call.action, arn: `${arnOf(template, id)}${table[2] ?? ''}` });
        continue;
      }
      if (names.topics[resource]) {
        const id = names.topics[resource];
        add({ role, action: call.action, arn: arnOf(template, id) });
        const key = template.Resources[id].Properties.KmsMasterKeyId;
        if (call.action === 'sns:Publish' && key)
          for (const action of ['kms:GenerateDataKey', 'kms:Decrypt'])
            add({ role, action, arn: render(template, key) });
        continue;
      }
      const object = /^s3:([^/]+)\/(.*)$/.exec(resource);
      if (object) {
        const id = names.buckets?.[object[1]] ?? `unknown bucket ${object[1]}`;
        add({ role, action: call.action, arn: `${arnOf(template, id)}/${object[2]}` });
        continue;
      }
      const secret = /^secret:(.+)$/.exec(resource);
      if (secret) {
        // A secret's ARN ends in a random 6-character suffix AWS adds to its name.
        add({
          role,
          action: call.action,
          arn: `arn:aws:secretsmanager:REGION:ACCOUNT:secret:${secret[1]}-AbCdEf`,
        });
        continue;
      }
      add({ role, action: call.action, arn: arnOf(template, names.services[resource] ?? resource) });
    }
  }
  return [...needs.values()];
}

/** The needs that the role's policies do not allow. */
export function denied(template: Cfn, needs: Need[]): Need[] {
  return needs.filter((n) => !allows(template, statementsOfRole(template, n.role), n.action, n.arn));
}

/**
 * A copy of the template in which the grant of one need is gone: the action is taken out of
 * every statement of that role that allows it on that resource (the rest of each statement stays).
 */
export function withoutGrant(template: Cfn, need: Need): Cfn {
  const copy = structuredClone(template) as Cfn;
  for (const resource of Object.values(copy.Resources) as Cfn[]) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!(resource.Properties.Roles ?? []).some((r: Cfn) => r.Ref === need.role)) continue;
    for (const s of resource.Properties.PolicyDocument.Statement as Statement[]) {
      if (!allows(copy, [s], need.action, need.arn)) continue;
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      s.Action = actions.filter((a) => !glob(a.toLowerCase(), need.action.toLowerCase()));
      if (!(s.Action as string[]).length) s.Effect = 'Removed';
    }
  }
  return copy;
}
