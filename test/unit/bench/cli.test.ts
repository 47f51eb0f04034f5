import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { benchCommand, listOption, positiveIntegerOption } from '../../../bench/cli.js';
import { buildBenchCommand } from '../../../bench/main.js';
import { errorReason } from '../../../infra/cli/cli-support.js';

/** Parses `argv` without running the action or exiting; resolves with the flags, rejects with commander's error. */
async function parse(command: Command, argv: readonly string[]): Promise<Record<string, unknown>> {
  command.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  let flags: Record<string, unknown> = {};
  command.action((opts: Record<string, unknown>) => {
    flags = opts;
  });
  await command.parseAsync([...argv], { from: 'user' });
  return flags;
}

function sample(): Command {
  return benchCommand('sample', 'a bench command for the tests')
    .addOption(positiveIntegerOption('--runs <n>', 'runs', 3))
    .addOption(listOption('--stages <list>', 'stages', ['raw', 'ack'] as const));
}

async function usageError(command: Command, argv: readonly string[]): Promise<CommanderError> {
  const error = await parse(command, argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CommanderError);
  return error as CommanderError;
}

describe('the bench flag parser', () => {
  it('gives every bench command --json and each integer flag its default', async () => {
    await expect(parse(sample(), [])).resolves.toEqual({ runs: 3 });
    await expect(parse(sample(), ['--json', '--runs', '5', '--stages', 'ack,raw'])).resolves.toEqual({ json: true, runs: 5, stages: ['ack', 'raw'] });
  });

  it.each([
    [['--runs', '0'], /--runs.*not an integer from 1/],
    [['--runs', '2.5'], /--runs.*not an integer from 1/],
    [['--stages', 'raw,nonsense'], /--stages.*comma-separated list of raw, ack; got "raw,nonsense"/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('refuses %j with a one-line reason and the usage exit code', async (argv, reason) => {
    const error = await usageError(sample(), argv);

    expect(errorReason(error)).toMatch(reason);
    expect(errorReason(error)).not.toContain('\n');
    // runCli exits 2 for a CommanderError (infra/cli/cli-support.ts): it is a usage error, not a failure.
    expect(error.exitCode).not.toBe(0);
  });
});

describe('npm run bench flags', () => {
  it('takes --quick, --json and any of the sections after --only', async () => {
    const command = buildBenchCommand();

    await expect(parse(command, ['--quick', '--json', '--only', 'broker', 'latency'])).resolves.toEqual({ quick: true, json: true, only: ['broker', 'latency'] });
  });

  it('refuses a section it does not have, naming it and the sections it has', async () => {
    const error = await usageError(buildBenchCommand(), ['--only', 'nonsense']);

    expect(errorReason(error)).toMatch(/nonsense.*use-cases, dynamodb, store, broker, durability, latency, scale, shards/);
  });
});
