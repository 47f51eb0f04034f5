/**
 * What every local command line shares (README.md, "Commands"): data on stdout, errors on
 * stderr as ONE line `error: <reason>` (never a stack trace) and a non-zero exit code.
 *
 * Exit codes: 0 success (and `--help`); 2 the invocation is wrong (unknown or malformed flags, missing
 * arguments, a {@link ConfigError} such as {@link UsageError}: fix the command and retry); 1 anything
 * else failed while running.
 *
 * @example
 * const program = new Command('rule').option('--json', 'machine-readable output').action((opts) => {
 *   if (opts.json) writeJson({ ok: true }); else writeText('ok');
 * });
 * await runCli(program);
 */
import { type Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, FleetTelemetryError } from '../../lambdas/domain/errors.js';

export const EXIT_CODES = { ok: 0, failure: 1, usage: 2 } as const;

/** The command line itself is wrong (a flag's value, a combination of flags): exit code 2. */
export class UsageError extends ConfigError {}

/** The command line was right but the command could not do its work (nothing to read, no broker): exit code 1. */
export class CommandFailedError extends FleetTelemetryError {}

export interface RunCliOptions {
  /** The user's arguments (no `node` and script path). @default process.argv.slice(2) */
  readonly argv?: readonly string[];
}

/** An error as one line: its message (newlines folded), without a leading `error: ` or a stack. */
export function errorReason(error: unknown): string {
  // Commander's message when it showed help instead of running a command (none or an unknown one given).
  if (error instanceof CommanderError && error.code === 'commander.help') return 'missing or unknown command (see --help)';
  const text = error instanceof Error ? error.message : String(error);
  const line = text.replace(/\s*\n\s*/g, ' ').trim().replace(/^error:\s*/i, '');
  return line === '' ? (error instanceof Error ? error.name : 'unknown error') : line;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError || error instanceof ConfigError) return EXIT_CODES.usage;
  return EXIT_CODES.failure;
}

/** Prints the one error line and ends the process (servers a command started must not keep it alive). */
function fail(error: unknown): never {
  process.stderr.write(`error: ${errorReason(error)}\n`);
  process.exit(exitCodeOf(error));
}

/** Commander copies settings to subcommands only when they are created, so apply them to the whole tree. */
function configure(command: Command): void {
  command.exitOverride();
  // Commander prints its own "error: ..." (and, for a missing subcommand, the whole help) on stderr
  // before throwing; we print ours, once, on one line. Help asked for with --help still goes to stdout.
  command.configureOutput({ outputError: () => undefined, writeErr: () => undefined });
  for (const sub of command.commands) configure(sub);
}

/**
 * Parses the arguments and runs the program's action. Any error, from commander or from the action
 * (now or later, as an uncaught exception or rejection), prints one line on stderr and exits non-zero.
 * `--help` prints to stdout and exits 0.
 */
export async function runCli(program: Command, options: RunCliOptions = {}): Promise<void> {
  configure(program);
  // `npm run query | head`: the reader went away; that is not an error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    fail(error);
  });
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  try {
    await program.parseAsync([...(options.argv ?? process.argv.slice(2))], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) {
      // --help, --version: already printed by commander.
      process.exitCode = 0;
      return;
    }
    fail(error);
  }
}

/** Writes one JSON document and a newline on stdout (the `--json` output of a command). */
export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Writes human-readable text on stdout, ending with exactly one newline. */
export function writeText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * A commander option parser for an integer in [min, max]: `--timestamp <ms>` with
 * `integerArgument({ min: 0 })`. Rejects anything but plain decimal digits (with an optional `-`).
 */
export function integerArgument(bounds: { min?: number; max?: number } = {}): (value: string) => number {
  const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`not an integer from ${min} to ${max}`);
    }
    return n;
  };
}
