/**
 * The bench's parts that need child processes and a real broker: a raw-broker flood lasts at least
 * its minimum duration (so its rate is not the first second's noise), and the measurement aids
 * refuse a bad flag with one line and exit code 2, as `npm run bench` does.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { floodRawBroker } from '../../bench/sections/floods.js';

function runScript(script: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: process.cwd() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a raw-broker flood', () => {
  it('goes on past its message count until it has lasted its minimum duration, every publish acknowledged and seen by the tap', async () => {
    const run = await floodRawBroker({ runs: 1, clients: 4, messagesPerClient: 5, inflight: 2, rawMinDurationMs: 1_000, progress: () => undefined });

    expect(run.seconds).toBeGreaterThanOrEqual(1);
    // 20 messages would take a few milliseconds: the rest of the second was spent publishing more.
    expect(run.ackedPerS * run.seconds).toBeGreaterThan(20);
    expect(run.storedPerS).toBeUndefined();
  });

  it('without a minimum duration sends exactly its message count', async () => {
    const run = await floodRawBroker({ runs: 1, clients: 4, messagesPerClient: 5, inflight: 2, rawMinDurationMs: 0, progress: () => undefined });

    expect(Math.round(run.ackedPerS * run.seconds)).toBe(20);
  });
});

describe('the measurement aids', () => {
  it.each([
    ['bench/stages.ts', ['--stages', 'raw,warp'], /^error: .*--stages.*warp/],
    ['bench/stages.ts', ['--runs', '0'], /^error: .*--runs.*not an integer from 1/],
    ['bench/consumers.ts', ['--consumer', 'nobody'], /^error: .*nobody.*ingest, alarms, both/],
  ])('%s %j: one line on stderr, nothing on stdout, exit code 2', async (script, args, reason) => {
    const { code, stdout, stderr } = await runScript(script, args);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(reason);
  });
});
