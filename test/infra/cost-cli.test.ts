import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateMonthlyCost } from '../../infra/aws/cost/estimate.js';
import { REPO_ROOT } from '../../infra/aws/paths.js';

/** Runs `npm run cost` as npm does (tsx on infra/aws/cost/main.ts), in a child process. */
function cost(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'infra/aws/cost/main.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run cost', () => {
  it('prints the monthly cost by service, the total and the shards needed', () => {
    const { status, stdout, stderr } = cost('--devices', '100000', '--interval', '60');

    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('100,000 devices, one 200-byte reading every 60 s');
    expect(stdout).toContain('Kinesis shards needed: 3 (infra/pipeline.ts configures 2; billed: 3)');
    for (const service of ['IoT Core', 'Kinesis', 'Lambda', 'DynamoDB', 'Timestream', 'SNS', 'CloudWatch']) {
      expect(stdout).toMatch(new RegExp(`^${service} +[\\d,]+\\.\\d\\d$`, 'm'));
    }
    const total = estimateMonthlyCost({ devices: 100_000, intervalSeconds: 60 }).totalUsd;
    expect(stdout).toMatch(
      new RegExp(`^Total +${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}$`, 'm'),
    );
  });

  it('prints one JSON object with --json, the estimate itself', () => {
    const { status, stdout } = cost('--devices', '250', '--interval', '30', '--payload', '512', '--json');

    expect(status).toBe(0);
    const expected = estimateMonthlyCost({ devices: 250, intervalSeconds: 30, payloadBytes: 512 });
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('takes the stream mode and the time-series store', () => {
    const { stdout } = cost('--devices', '10', '--interval', '60', '--stream-mode', 'on-demand', '--time-series-store', 'none', '--json');
    const estimate = JSON.parse(stdout) as { stream: { mode: string }; byService: Record<string, number> };
    expect(estimate.stream.mode).toBe('on-demand');
    expect(estimate.byService['Timestream']).toBe(0);
  });

  it.each([
    [['--devices', '0', '--interval', '60'], /--devices.*not a positive integer/],
    [['--devices', 'ten', '--interval', '60'], /--devices.*not a positive integer/],
    [['--devices', '10'], /required option '--interval/],
    [['--devices', '10', '--interval', '60', '--region', 'mars-1'], /region: no prices for mars-1/],
    [['--devices', '10', '--interval', '60', '--stream-mode', 'fast'], /Allowed choices are provisioned, on-demand/],
    [['--devices', '10', '--interval', '60', '--bogus'], /unknown option '--bogus'/],
  ])('refuses %j with one line on stderr and exit code 2', (args, reason) => {
    const { status, stdout, stderr } = cost(...args);

    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^error: /);
    expect(stderr).toMatch(reason);
  });

  it('explains itself with --help', () => {
    const { status, stdout } = cost('--help');
    expect(status).toBe(0);
    for (const flag of ['--devices', '--interval', '--payload', '--region', '--json']) expect(stdout).toContain(flag);
  });
});
