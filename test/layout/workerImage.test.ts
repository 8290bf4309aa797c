/**
 * The worker depends only on shared/ and its own folders, and its image copies only those: no
 * dispatcher, infrastructure, CLI or local stack (and so no embedded store) ships to ECS.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/projectRoot.js';

const root = projectRoot();

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of a file, as a path from the repository root. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    relative(root, resolve(dirname(file), m[1])),
  );
}

describe('worker layout', () => {
  it('imports nothing outside worker/ and shared/, directly or through shared/', () => {
    const files = [...sources(join(root, 'worker')), ...sources(join(root, 'shared'))];
    const outside = files.flatMap((f) =>
      imports(f)
        .filter((target) => !target.startsWith('worker/') && !target.startsWith('shared/'))
        .map((target) => `${relative(root, f)} → ${target}`),
    );
    expect(outside).toEqual([]);
  });

  it('builds an image from shared/ and worker/ only, without the embedded store', () => {
    const dockerfile = readFileSync(join(root, 'worker', 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    const allowed = [
      'package-lock.json',
      'package.json',
      'shared',
      'tsconfig.json',
      'tsconfig.worker.json',
      'worker',
    ];
    for (const source of copied)
      expect(allowed.some((a) => source === a || source.startsWith(`${a}/`))).toBe(true);
    expect(copied).toContain('worker/ffmpeg/build-minimal.sh');
    expect(dockerfile).toContain('--omit=optional');
    // Every stage starts from the same base, pinned by digest.
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    const base = `$${'{NODE_IMAGE}'}`;
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual([base, base, base]);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.optionalDependencies ?? {})).toContain('dynalite');
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain('dynalite');
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.worker.json'), 'utf8'));
    expect(tsconfig.include).toEqual(['shared', 'worker']);
  });
});
