/**
 * The `streamqc` command line: dispatches to its subcommands. Each command is imported only when
 * it runs, so `analyze` does not pay for loading the AWS SDK and the embedded store.
 */
import { setFlagsFromString } from 'node:v8';
import { loadAnalyzeBundle } from './analyzeBundle.js';

/**
 * V8 optimises a function once it has run for its "interrupt budget" of bytecode, compiling it
 * with TurboFan on a background thread. In one analysis the hot loops are WebAssembly already
 * (worker/detectors/kernels/) and the JavaScript left is glue run once a frame or a packet:
 * compiling it cost more than it saved (60 s of 720p: 0.13 CPU s of compiling, no faster glue;
 * 120 s: 0.25 s). Eight times V8's default budget leaves such glue in V8's baseline code unless it
 * runs far more often (Node CPU, 8 interleaved runs: 60 s of 720p 0.333 s at 4×, 0.326 s at 8×,
 * 0.345 s at 2×; 120 s 0.554 s at 4×, 0.546 s at 8×, 0.550 s at 16×). Workers, which run for
 * days, keep V8's default.
 */
const ANALYZE_INTERRUPT_BUDGET = 8 * 67_584;

const HELP = `Usage: streamqc <command> [options]

Commands:
  analyze <file-or-url>   find defects in one input and print them as NDJSON
  start                   run the local stack (API, registry, workers)
  demo                    the local stack plus two live demo streams with defects
  worker                  one worker process (ECS task / local child)
  outbox                  list or replay dead letters (events a sink gave up on)

Run 'streamqc <command> --help' for a command's options.`;

/** Runs the CLI with the given arguments; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze': {
      setFlagsFromString(`--interrupt-budget=${ANALYZE_INTERRUPT_BUDGET}`);
      // From its bundle with V8's code cache (analyzeBundle.ts); STREAMQC_ANALYZE_BUNDLE=0: from dist/.
      const bundled = process.env.STREAMQC_ANALYZE_BUNDLE === '0' ? null : loadAnalyzeBundle();
      if (!bundled) return (await import('./analyze.js')).analyzeCommand(rest);
      const code = await bundled.analyzeCommand(rest);
      // A full run (not a usage error, not --help) has compiled what the next one needs.
      if (code === 0 && !rest.some((a) => a === '-h' || a === '--help')) bundled.keepCompiledCode();
      return code;
    }
    case 'demo':
      return (await import('./demo.js')).demoCommand();
    case 'start':
      return (await import('./start.js')).startCommand(rest);
    case 'outbox':
      return (await import('./outbox.js')).outboxCommand(rest);
    case 'worker':
      // The scale harness's workers decode nothing (local/ScaleHarnessStandIn.ts; not in the image).
      if (process.env.STREAMQC_SCALE_HARNESS_STANDIN_DIR)
        return (await import('../local/ScaleHarnessStandIn.js')).standInWorker(
          process.env.STREAMQC_SCALE_HARNESS_STANDIN_DIR,
        );
      return (await import('../worker/main.js')).workerCommand();
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${HELP}\n`);
      return command ? 0 : 2;
    default:
      process.stderr.write(`streamqc: unknown command ${command}\n\n${HELP}\n`);
      return 2;
  }
}
