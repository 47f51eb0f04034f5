import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    for (const service of ['IoT Core', 'Kinesis', 'Lambda', 'DynamoDB', 'S3', 'SNS', 'CloudWatch']) {
      expect(stdout).toMatch(new RegExp(`^${service} +[\\d,]+\\.\\d\\d$`, 'm'));
    }
    expect(stdout).toMatch(/^Time-series store for this fleet .*: DynamoDB [\d,]+\.\d\d, Timestream [\d,]+\.\d\d USD a month \(deployed: dynamodb\)$/m);
    // 100,000 devices need a third shard: the verdict says so, and what to change.
    expect(stdout).toMatch(/^Capacity: WARNING, the configured stack does not keep up with this fleet/m);
    expect(stdout).toMatch(/WARNING: the write rate needs 3 shards and infra\/pipeline.ts configures 2/);
    // config/thresholds.json puts per-reading-state rules on cold-chain and vehicles: 2 of the 3 default types.
    const total = estimateMonthlyCost({ devices: 100_000, intervalSeconds: 60, perReadingStateShare: 2 / 3 }).totalUsd;
    expect(stdout).toMatch(
      new RegExp(`^Total +${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}$`, 'm'),
    );
  });

  it('prints one JSON object with --json, the estimate itself', () => {
    const { status, stdout } = cost('--devices', '250', '--interval', '30', '--payload', '512', '--json');

    expect(status).toBe(0);
    const expected = estimateMonthlyCost({ devices: 250, intervalSeconds: 30, payloadBytes: 512, perReadingStateShare: 2 / 3 });
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('prints the capacity verdict in --json too', () => {
    const { status, stdout } = cost('--devices', '10000', '--interval', '60', '--time-series-store', 'timestream', '--json');
    expect(status).toBe(0);
    const estimate = JSON.parse(stdout) as { capacity: { keepsUp: boolean; maxDevices: number; warnings: string[] }; totalUsd: number };
    expect(estimate.capacity.keepsUp).toBe(true);
    expect(estimate.capacity.warnings).toEqual([]);
    expect(estimate.capacity.maxDevices).toBeGreaterThan(10_000);
  });

  it('takes the topic, the stream retention and the thresholds file', () => {
    const run = (...args: string[]) => JSON.parse(cost('--devices', '100', '--interval', '60', '--json', ...args).stdout) as {
      input: { topic: string; streamRetentionHours: number; silentForSeconds: number | null };
      byService: Record<string, number>;
    };
    expect(run('--topic', 'plain').byService['IoT Core']).toBeGreaterThan(run().byService['IoT Core'] ?? Number.POSITIVE_INFINITY);
    expect(run('--stream-retention-hours', '24').input.streamRetentionHours).toBe(24);
    expect(run().input.silentForSeconds).toBe(300);
    const noSilence = join(mkdtempSync(join(tmpdir(), 'cost-')), 'thresholds.json');
    writeFileSync(noSilence, JSON.stringify({ rules: [{ id: 'hot', metric: 't', when: { above: 1 }, severity: 'minor' }] }));
    expect(run('--thresholds', noSilence).input.silentForSeconds).toBeNull();
  }, 30_000);

  it('writes the devices that per-reading-state rules match on every reading, by the fleet mix given', () => {
    const run = (...args: string[]) => JSON.parse(cost('--devices', '10000', '--interval', '60', '--json', ...args).stdout) as {
      input: { perReadingStateShare: number };
      byService: Record<string, number>;
    };
    const mixed = run();
    const envOnly = run('--device-types', 'env-sensor=1');
    const coldChainHeavy = run('--device-types', 'env-sensor=1,cold-chain=3');
    expect(mixed.input.perReadingStateShare).toBeCloseTo(2 / 3, 12);
    expect(envOnly.input.perReadingStateShare).toBe(0);
    expect(coldChainHeavy.input.perReadingStateShare).toBe(0.75);
    expect(mixed.byService['DynamoDB']).toBeGreaterThan(envOnly.byService['DynamoDB'] ?? Number.POSITIVE_INFINITY);
  }, 30_000);

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
    [['--devices', '10', '--interval', '60', '--stream-retention-hours', '12'], /--stream-retention-hours.*not an integer from 24 to 8760/],
    [['--devices', '10', '--interval', '60', '--topic', 'mqtt'], /Allowed choices are basic-ingest, plain/],
    [['--devices', '10', '--interval', '60', '--thresholds', '/nonexistent/t.json'], /thresholds file \/nonexistent\/t.json: not found/],
    [['--devices', '10', '--interval', '60', '--device-types', 'vehicle'], /--device-types: expected type=weight pairs separated by commas, got "vehicle"/],
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
    for (const flag of ['--devices', '--interval', '--payload', '--region', '--topic', '--stream-retention-hours', '--thresholds', '--device-types', '--json']) expect(stdout).toContain(flag);
  });
});
