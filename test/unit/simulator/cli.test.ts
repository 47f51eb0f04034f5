import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatorUsageError } from '../../../simulator/errors.js';
import type { FleetSummary } from '../../../simulator/summary.js';
import { formatSummary, parseArgs } from '../../../simulator/main.js';
import { resolveFleetOptions } from '../../../simulator/options.js';

describe('parseArgs', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('maps the flags to fleet options, with the anomalies of the flags in the scenario', () => {
    const { options, json } = parseArgs(
      ['--devices', '20', '--rate', '0.1', '--duration', '3', '--qos', '0', '--ramp', '50', '--seed', 'abc', '--json', '--quiet',
        '--overheat', '5%@60', '--silent', 'sim-00003@30+20', '--profile', 'env-sensor'],
      cwd,
    );

    expect(json).toBe(true);
    expect(options).toMatchObject({ devices: 20, rate: 0.1, durationS: 3, qos: 0, rampPerS: 50, seed: 'abc', profile: 'env-sensor' });
    expect(options.progress).toBeUndefined();
    expect(options.scenario?.anomalies).toEqual([
      { kind: 'overheat', share: 0.05, at: 60 },
      { kind: 'silent', devices: ['sim-00003'], at: 30, for: 20 },
    ]);
  });

  it("registers in ./data when it holds the local stack's registry, and not otherwise", () => {
    const without = parseArgs(['--devices', '1'], cwd);
    mkdirSync(join(cwd, 'data'));
    writeFileSync(join(cwd, 'data', 'devices.db'), '');
    const withData = parseArgs(['--devices', '1'], cwd);

    expect(without.options.dataDir).toBeUndefined();
    expect(without.notice).toMatch(/connecting without credentials/);
    expect(withData.options.dataDir).toBe(join(cwd, 'data'));
  });

  it('refuses --data pointing at a folder without a registry', () => {
    expect(() => parseArgs(['--data', cwd], cwd)).toThrow(/--data: no devices.db/);
  });

  it('needs an endpoint and certificates for AWS', () => {
    expect(() => parseArgs(['--target', 'aws', '--certs', cwd], cwd)).toThrow(/--endpoint: required with --target aws/);
    expect(() => parseArgs(['--target', 'aws', '--endpoint', 'abc.iot.amazonaws.com'], cwd)).toThrow(/--certs: required/);
    const aws = parseArgs(['--target', 'aws', '--endpoint', 'abc.iot.amazonaws.com:443', '--certs', cwd], cwd);
    expect(aws.options).toMatchObject({ target: 'aws', endpoint: 'abc.iot.amazonaws.com:443', certsDir: cwd });
  });

  it('verifies on AWS through the deployed stack, on 1,000 sampled devices unless told', () => {
    const aws = ['--target', 'aws', '--endpoint', 'abc.iot.amazonaws.com', '--certs', cwd, '--verify'];

    expect(resolveFleetOptions(parseArgs(aws, cwd).options)).toMatchObject({ verify: true, verifySample: 1000 });
    expect(resolveFleetOptions(parseArgs([...aws, '--stack', 'Fleet2', '--region', 'eu-west-1', '--verify-sample', '50'], cwd).options)).toMatchObject({
      stack: 'Fleet2',
      region: 'eu-west-1',
      verifySample: 50,
    });
    expect(() => parseArgs(['--no-register', '--stack', 'Fleet2'], cwd)).toThrow('--stack: only with --target aws');
  });

  it('rejects a malformed anomaly flag with the flag name', () => {
    expect(() => parseArgs(['--overheat', 'lots'], cwd)).toThrow(SimulatorUsageError);
  });
});

describe('resolveFleetOptions', () => {
  it('fills in the documented defaults and a random seed', () => {
    const o = resolveFleetOptions({ devices: 1, rate: 1, durationS: 1 });

    expect(o).toMatchObject({ target: 'local', endpoint: 'mqtt://127.0.0.1:1883', profile: 'mixed', qos: 1, inflight: 16, bufferSize: 1000 });
    expect(o.seed).toMatch(/^[0-9a-f]{8}$/);
  });

  it('rejects unknown options and bad values, naming them as flags', () => {
    expect(() => resolveFleetOptions({ devices: 1, rate: 1, durationS: 1, rat: 2 } as never)).toThrow(/option rat: unknown/);
    expect(() => resolveFleetOptions({ devices: 0, rate: 1, durationS: 1 })).toThrow(/^--devices/);
    expect(() => resolveFleetOptions({ devices: 1, rate: 1, durationS: 1, rampPerS: -1 })).toThrow(/^--ramp/);
    expect(() => resolveFleetOptions({ devices: 1, rate: 1, durationS: 1, verify: true })).toThrow(/--verify: needs --data/);
  });
});

describe('formatSummary', () => {
  it('prints counts, latency, alarms, CPU and memory, and the verification', () => {
    const summary: FleetSummary = {
      devices: 20, connected: 20, generated: 60, sent: 60, acked: 60, resent: 0, offline: 0, dropped: 0, unsent: 0,
      errors: 0, reconnects: 0, alarms: 2, alarmsRaised: 1, alarmsCleared: 1,
      latencyMs: { p50: 1.5, p99: 9, max: 10 }, durationMs: 3000, seed: 'abc', qos: 1, rate: 1, target: 'local',
      endpoint: 'mqtt://127.0.0.1:1883', lastError: null,
      cpu: { userMs: 500, systemMs: 100, percentOfOneCore: 20 }, memory: { rssMiB: 100, peakRssMiB: 120, heapUsedMiB: 30 },
      verify: { checked: 60, stored: 60, missing: 0, duplicates: 0, missingExamples: [], ok: true, waitedMs: 10 },
    };

    const text = formatSummary(summary);

    expect(text).toMatch(/acked 60/);
    expect(text).toMatch(/p50 1.5 ms, p99 9 ms/);
    expect(text).toMatch(/alarms received: 2 \(raised 1, cleared 1\)/);
    expect(text).toMatch(/\(20% of one core\), rss 100 MiB \(peak 120 MiB\)/);
    expect(text).toMatch(/verify: 60\/60 acknowledged readings stored, 0 missing/);
  });
});
