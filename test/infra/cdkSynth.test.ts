/** `cdk synth` through the pinned CDK CLI, offline: no credentials, no network, no Docker engine. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/runCli.js';

describe('cdk synth', () => {
  it('synthesizes the stack with the pinned CLI and no AWS credentials', () => {
    const out = mkdtempSync(join(tmpdir(), 'streamqc-cdk-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('AWS_')) env[k] = v;

    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'), 'synth', '--no-notices', '--quiet', '-o', out],
      { cwd: ROOT, env: { ...env, CDK_DISABLE_VERSION_CHECK: 'true' }, encoding: 'utf8', timeout: 180_000 },
    );

    expect(result.status, result.stderr).toBe(0);
    const templatePath = join(out, 'Streamqc.template.json');
    expect(existsSync(templatePath)).toBe(true);
    const template = JSON.parse(readFileSync(templatePath, 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types).toContain('AWS::ECS::Service');
    expect(types).toContain('AWS::Lambda::Function');
    expect(types).toContain('AWS::ApiGatewayV2::Api');
  });
});
