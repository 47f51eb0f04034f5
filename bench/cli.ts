/**
 * The one flag parser of the bench's three commands (`npm run bench`, `bench/stages.ts`,
 * `bench/consumers.ts`): commander through the project's CLI kit (infra/cli/cli-support.ts), so a
 * bad flag is one line on stderr and exit code 2, `--help` works, and `--json` prints the report.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { integerArgument } from '../infra/cli/cli-support.js';

/** A command with `--json` (the report as JSON instead of the table), as every bench command has. */
export function benchCommand(name: string, description: string): Command {
  return new Command(name).description(description).option('--json', 'print { machine, results } as JSON instead of the table');
}

/** `--<name> <n>`: a positive integer, `fallback` when absent. */
export function positiveIntegerOption(flags: string, description: string, fallback: number): Option {
  return new Option(flags, description).argParser(integerArgument({ min: 1 })).default(fallback);
}

/** `--<name> <a,b,...>`: a comma-separated list of `choices`, in the order given. */
export function listOption<T extends string>(flags: string, description: string, choices: readonly T[]): Option {
  return new Option(flags, `${description} (comma-separated: ${choices.join(', ')})`).argParser((value: string): T[] => {
    const names = value.split(',');
    const unknown = names.filter((item) => !(choices as readonly string[]).includes(item));
    if (unknown.length > 0) throw new InvalidArgumentError(`takes a comma-separated list of ${choices.join(', ')}; got ${JSON.stringify(value)}`);
    return names as T[];
  });
}

/** Progress lines of a bench command: stderr, so that stdout holds only the report. */
export function progressToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
