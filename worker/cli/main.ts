/** The `streamqc` command line: dispatches to its subcommands. */
import { ANALYZE_HELP, analyzeCommand } from './analyze.js';
import { demoCommand } from './demo.js';
import { START_HELP, startCommand } from './start.js';
import { workerCommand } from './worker.js';

const HELP = `Usage: streamqc <command> [options]

Commands:
  analyze <file-or-url>   find defects in one input and print them as NDJSON
  start                   run the local stack (API, registry, workers)
  demo                    the local stack plus two live demo streams with defects
  worker                  one worker process (ECS task / local child)

Run 'streamqc <command> --help' for a command's options.

${ANALYZE_HELP.split('\n')[0]}
${START_HELP.split('\n')[0]}`;

/** Runs the CLI with the given arguments; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'analyze':
      return analyzeCommand(rest);
    case 'demo':
      return demoCommand();
    case 'start':
      return startCommand(rest);
    case 'worker':
      return workerCommand();
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
