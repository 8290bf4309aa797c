#!/usr/bin/env node
// `streamqc analyze` as one CommonJS file (dist/cli/analyze.bundle.cjs) holding every module it
// loads, for cli/analyzeBundle.ts to compile with V8's code cache: a run then neither resolves
// and reads some ninety modules nor parses and compiles them again. Each module keeps its own
// import.meta.url (the file it was in dist/): code that finds files beside itself still does.
// Run by ensure-build.mjs after tsc; without esbuild (an install without dev dependencies) it
// writes nothing and `analyze` loads dist/ as modules.
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outfile = join(dist, 'cli', 'analyze.bundle.cjs');

// A new bundle makes every cached compilation of the old one useless.
for (const name of readdirSync(join(dist, 'cli')))
  if (name.startsWith('analyze.bundle.')) rmSync(join(dist, 'cli', name), { force: true });

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.exit(0);
}

const moduleUrls = {
  name: 'module-urls',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist)) return undefined;
      const contents = readFileSync(args.path, 'utf8').replace(
        /\bimport\.meta\.url\b/g,
        `__moduleUrl(${JSON.stringify(relative(dist, args.path))})`,
      );
      return { contents, loader: 'js' };
    });
  },
};

// Written under another name, then renamed: an analyze starting meanwhile reads all of it or none.
const partial = join(dist, 'cli', `.analyze-bundle-${process.pid}.tmp`);
await esbuild.build({
  entryPoints: [join(dist, 'cli', 'analyze.js')],
  outfile: partial,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  // The bundle sits in dist/cli/: a module's own URL is its path under dist/.
  banner: {
    js: "const __moduleUrl = (p) => require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', p)).href;",
  },
  plugins: [moduleUrls],
});
renameSync(partial, outfile);
