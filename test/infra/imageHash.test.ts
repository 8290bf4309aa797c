/**
 * The worker image's identity is what ships: a devDependency bump in the lockfile (or a note in
 * worker/) leaves the synthesized image asset as it was — `cdk deploy` does not roll the fleet —
 * while a runtime dependency, the compiler or the worker's code changes it. Two copies of the
 * image's inputs, synthesized offline.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, it } from 'vitest';
import { workerImageHash } from '../../infra/imageHash.js';
import { WORKER_IMAGE_FILES, workerImage } from '../../infra/StreamqcStack.js';
import { ROOT } from '../helpers/runCli.js';

/** A copy of the image's inputs, changed by `edit`. */
function copy(edit: (root: string) => void = () => {}): string {
  const root = mkdtempSync(join(tmpdir(), 'streamqc-image-'));
  for (const f of WORKER_IMAGE_FILES) cpSync(join(ROOT, f), join(root, f), { recursive: true });
  edit(root);
  return root;
}

function editLock(root: string, name: string, version: string): void {
  const file = join(root, 'package-lock.json');
  const lock = JSON.parse(readFileSync(file, 'utf8'));
  lock.packages[`node_modules/${name}`].version = version;
  writeFileSync(file, JSON.stringify(lock, null, 2));
}

/** The image asset's hash in a synthesized stack using workerImage() on `root`. */
function synthesizedHash(root: string): string {
  const app = new App();
  const stack = new Stack(app, 'Image');
  new ecs.FargateTaskDefinition(stack, 'Task').addContainer('worker', {
    image: workerImage(root, false),
    memoryLimitMiB: 512,
  });
  const assembly = app.synth();
  const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Image.assets.json'), 'utf8'));
  return Object.keys(manifest.dockerImages)[0];
}

describe('the worker image identity', () => {
  it('ignores devDependency bumps and notes, follows runtime dependencies, the compiler and the code', () => {
    const base = copy();
    const devBump = copy((r) => editLock(r, 'vitest', '99.0.0'));
    const note = copy((r) => writeFileSync(join(r, 'worker', 'NOTES.md'), 'a note\n'));
    const runtimeBump = copy((r) => editLock(r, 'pino', '99.0.0'));
    const compiler = copy((r) => editLock(r, 'typescript', '99.0.0'));
    const code = copy((r) =>
      writeFileSync(join(r, 'worker', 'main.ts'), `${readFileSync(join(r, 'worker', 'main.ts'), 'utf8')}\n`),
    );

    const hash = workerImageHash(base);
    expect(workerImageHash(devBump)).toBe(hash);
    expect(workerImageHash(note)).toBe(hash);
    expect(workerImageHash(runtimeBump)).not.toBe(hash);
    expect(workerImageHash(compiler)).not.toBe(hash);
    expect(workerImageHash(code)).not.toBe(hash);

    // And the synthesized asset (the image tag a deploy would roll to) follows it.
    const synthesized = synthesizedHash(base);
    expect(synthesizedHash(devBump)).toBe(synthesized);
    expect(synthesizedHash(runtimeBump)).not.toBe(synthesized);
  }, 60_000);
});
