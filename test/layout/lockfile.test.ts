/** The lockfile pins every package it installs by content, not only by version. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/runCli.js';

describe('package-lock.json', () => {
  it('has an integrity hash for every package npm fetches (bundled ones come inside their parent)', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { integrity?: string; link?: boolean; inBundle?: boolean }>;
    };

    const missing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.link && !p.inBundle && !p.integrity)
      .map(([path]) => path);

    expect(missing).toEqual([]);
  });
});
