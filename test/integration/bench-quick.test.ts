/**
 * Keeps `npm run bench` alive: the quick profile runs end to end as CI would run it, and its JSON has
 * the documented shape. No figure is checked for speed (the machine is shared); only that every
 * figure was measured, with its runs and its baseline.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  runs: number[];
  detail?: Record<string, number | string | null>;
}

/** Decimals of the figure's rounding, as its numbers show them (at least what its runs show). */
function decimals(result: Figure): number {
  return Math.max(...[result.value, result.baseline ?? 0, ...result.runs].map((n) => String(n).split('.')[1]?.length ?? 0));
}

/**
 * Where value / baseline of the unrounded medians can lie, given that both were rounded: a latency
 * of 0.96 ms shown as 1 moves the ratio by 4%, so a fixed tolerance fails on a fast machine.
 */
function ratioBounds(result: Figure): [number, number] {
  const half = 0.5 * 10 ** -decimals(result);
  const baseline = result.baseline as number;
  const slack = 0.001; // the ratio itself is rounded to 3 decimals
  const low = Math.max(0, result.value - half) / (baseline + half) - slack;
  const high = baseline - half > 0 ? (result.value + half) / (baseline - half) + slack : Number.POSITIVE_INFINITY;
  return [Math.min(low, (result.value / baseline) * 0.95), Math.max(high, (result.value / baseline) * 1.05)];
}

function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { cwd: process.cwd() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench', () => {
  it(
    'runs every section of --quick and prints { machine, results } with a median of at least 3 runs beside each baseline',
    async () => {
      const { code, stdout, stderr } = await runBench(['--quick', '--json']);

      expect(code, stderr).toBe(0);
      const report = JSON.parse(stdout) as { machine: Record<string, unknown>; results: Figure[] };
      expect(report.machine).toMatchObject({ cpuModel: expect.any(String), cores: expect.any(Number), node: process.version });
      const names = report.results.map((r) => r.name);
      for (const expected of ['pipeline-vs-broker', 'broker-baseline', 'durability-price', 'store-sink-vs-raw-insert', 'shards-1', 'shards-2', 'use-case: storeReadings (DynamoDB adapter over dynalite)']) {
        expect(names).toContain(expected);
      }
      for (const prefix of ['use-case: ', 'query-last-hour@', 'latency-stored-p50@', 'latency-alarm-p99@', 'scale-']) {
        expect(names.some((name) => name.startsWith(prefix)), prefix).toBe(true);
      }
      for (const result of report.results) {
        expect(Object.keys(result), result.name).toEqual(expect.arrayContaining(['name', 'value', 'unit', 'baseline', 'ratio', 'runs']));
        expect(result.runs.length, result.name).toBeGreaterThanOrEqual(3);
        expect(result.runs.every((run) => Number.isFinite(run)), result.name).toBe(true);
        expect(Number.isFinite(result.value), result.name).toBe(true);
        expect(Math.min(...result.runs) <= result.value && result.value <= Math.max(...result.runs), result.name).toBe(true);
        // The ratio is of the unrounded medians: within rounding of value / baseline.
        if (result.baseline !== null && result.baseline > 0) {
          const [low, high] = ratioBounds(result);
          expect(result.ratio, result.name).toBeGreaterThanOrEqual(low);
          expect(result.ratio, result.name).toBeLessThanOrEqual(high);
        }
      }
      const comparison = report.results.find((r) => r.name === 'pipeline-vs-broker') as Figure;
      expect(comparison.unit).toBe('msg/s');
      expect(comparison.baseline).toBe(report.results.find((r) => r.name === 'broker-baseline')?.value);
      // Where the pipeline's CPU went, per thread (Linux): the broker's thread and the consumers' worker both worked.
      const detail = comparison.detail ?? {};
      expect(detail.mainThreadUsPerMsg).toBeGreaterThan(0);
      expect(detail.consumersThreadUsPerMsg).toBeGreaterThan(0);
      expect(stderr).toMatch(/broker vs pipeline/);
    },
    300_000,
  );

  it('refuses an unknown section with a one-line usage error and exit code 2', async () => {
    const { code, stdout, stderr } = await runBench(['--only', 'nonsense']);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^error: .*nonsense/);
  });
});
