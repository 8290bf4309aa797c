/**
 * `streamqc analyze` from its one-file bundle (scripts/bundle-analyze.mjs), compiled with V8's code
 * cache: Node 20 has no compile cache for modules, and resolving, reading, parsing and compiling
 * the ninety-odd modules of an analysis was a third of what Node spends on a one-minute file
 * (about 45 ms of CPU a run). The cache is V8's compiled code of every function the last full run
 * used, kept beside the bundle under the bundle's size and modification time (a rebuilt bundle
 * never meets an old cache; V8 itself refuses one from another V8 or other flags). Nothing here is
 * required: no bundle, and analyze loads dist/ as modules; no cache, or an unwritable dist/, and
 * the bundle is compiled as any script is.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

type AnalyzeModule = typeof import('./analyze.js');

const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), 'analyze.bundle.cjs');

export interface LoadedAnalyze {
  analyzeCommand: AnalyzeModule['analyzeCommand'];
  /** Keeps the compiled code for the next run, when there was no usable cache (call after a full run). */
  keepCompiledCode(): void;
}

/** The analyze command from the bundle; null when there is none. */
export function loadAnalyzeBundle(): LoadedAnalyze | null {
  let source: string;
  let cacheFile: string;
  try {
    const { size, mtimeMs } = statSync(BUNDLE);
    cacheFile = `${BUNDLE.slice(0, -'.cjs'.length)}.${size}-${Math.round(mtimeMs)}.cache`;
    source = readFileSync(BUNDLE, 'utf8');
  } catch {
    return null;
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundle is CommonJS: its module wrapper, with a require that resolves from where it lies.
  const module = { exports: {} as AnalyzeModule };
  let script: Script;
  try {
    script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
      filename: BUNDLE,
      cachedData,
    });
    const { createRequire } = process.getBuiltinModule('node:module');
    script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  } catch {
    // A bundle that does not load (cut short by a build in progress elsewhere): the modules.
    return null;
  }
  if (typeof module.exports.analyzeCommand !== 'function') return null;
  const usable = cachedData !== undefined && !script.cachedDataRejected;
  return {
    analyzeCommand: module.exports.analyzeCommand,
    keepCompiledCode: () => {
      if (usable) return;
      try {
        // Written whole under another name, then renamed: a run reading it sees all of it or none.
        const partial = `${cacheFile}.${process.pid}`;
        writeFileSync(partial, script.createCachedData());
        renameSync(partial, cacheFile);
      } catch {
        // A read-only installation: every run compiles, as without the bundle.
      }
    },
  };
}
