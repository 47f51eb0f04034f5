import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatorUsageError } from '../../../simulator/errors.js';
import { deviceIdOf } from '../../../simulator/backoff.js';
import type { DeviceKind } from '../../../simulator/profiles/index.js';
import { kindOf } from '../../../simulator/profiles/index.js';
import { loadScenarioFile, parseAnomalyFlag, parseScenario, resolveScenario } from '../../../simulator/scenario.js';

const fleet = (n: number, profile: 'env-sensor' | 'mixed' = 'env-sensor') => {
  const kinds: DeviceKind[] = Array.from({ length: n }, (_, i) => kindOf(profile, i));
  return { seed: 'scn', kinds, deviceIds: kinds.map((_, i) => deviceIdOf('sim', i)) };
};

describe('parseAnomalyFlag', () => {
  it.each([
    ['5%@60', { kind: 'overheat', share: 0.05, at: 60 }],
    ['0.05@60+120', { kind: 'overheat', share: 0.05, at: 60, for: 120 }],
    ['1@0', { kind: 'overheat', share: 1, at: 0 }],
    ['sim-00003,sim-00004@30s+20s', { kind: 'overheat', devices: ['sim-00003', 'sim-00004'], at: 30, for: 20 }],
  ])('reads %s', (spec, expected) => {
    expect(parseAnomalyFlag('overheat', spec)).toEqual(expected);
  });

  it.each(['60', '5%', '5%@soon', '150%@10', '0@10', 'bad id!@10'])('refuses %s, naming the flag', (spec) => {
    expect(() => parseAnomalyFlag('silent', spec)).toThrow(SimulatorUsageError);
    expect(() => parseAnomalyFlag('silent', spec)).toThrow(/^--silent/);
  });
});

describe('parseScenario', () => {
  it('rejects unknown keys, naming the field', () => {
    expect(() => parseScenario({ anomalies: [{ kind: 'overheat', share: 0.1, at: 1, peak: 90 }] })).toThrow(
      /scenario\.anomalies\[0\]/,
    );
    expect(() => parseScenario({ anomalies: [], extra: true })).toThrow(SimulatorUsageError);
  });

  it('needs exactly one of share or devices', () => {
    expect(() => parseScenario({ anomalies: [{ kind: 'silent', at: 1 }] })).toThrow(/exactly one of share or devices/);
    expect(() => parseScenario({ anomalies: [{ kind: 'silent', at: 1, share: 0.1, devices: ['a'] }] })).toThrow(
      /exactly one/,
    );
  });

  it('refuses an unknown anomaly kind', () => {
    expect(() => parseScenario({ anomalies: [{ kind: 'meltdown', share: 0.1, at: 1 }] })).toThrow(/kind/);
  });
});

describe('loadScenarioFile', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('reads a valid file and reports a file that is not JSON with its name', () => {
    const folder = mkdtempSync(join(tmpdir(), 'scenario-'));
    dir = folder;
    const good = join(folder, 'good.json');
    const bad = join(folder, 'bad.json');
    writeFileSync(good, JSON.stringify({ anomalies: [{ kind: 'silent', devices: ['sim-00001'], at: 5, for: 3 }] }));
    writeFileSync(bad, '{ nope');

    expect(loadScenarioFile(good).anomalies).toEqual([{ kind: 'silent', devices: ['sim-00001'], at: 5, for: 3 }]);
    expect(() => loadScenarioFile(bad)).toThrow(/bad\.json is not JSON/);
    expect(() => loadScenarioFile(join(folder, 'missing.json'))).toThrow(/cannot read/);
  });
});

describe('resolveScenario', () => {
  it('overheats the chosen share of devices from the chosen time, the same ones for the same seed', () => {
    const scenario = parseScenario({ anomalies: [{ kind: 'overheat', share: 0.05, at: 60 }] });

    const windows = resolveScenario(scenario, fleet(200));
    const again = resolveScenario(scenario, fleet(200));

    expect(windows.size).toBe(10);
    expect([...again.keys()]).toEqual([...windows.keys()]);
    for (const list of windows.values()) {
      expect(list).toEqual([{ kind: 'overheat', fromMs: 60_000, toMs: Number.POSITIVE_INFINITY }]);
    }
  });

  it('picks at least one device for a small share', () => {
    const windows = resolveScenario(parseScenario({ anomalies: [{ kind: 'silent', share: 0.01, at: 1, for: 2 }] }), fleet(20));

    expect(windows.size).toBe(1);
    expect([...windows.values()][0]).toEqual([{ kind: 'silent', fromMs: 1000, toMs: 3000 }]);
  });

  it('picks only devices that can show the anomaly', () => {
    const mixed = fleet(30, 'mixed');

    const windows = resolveScenario(parseScenario({ anomalies: [{ kind: 'battery-low', share: 1, at: 0 }] }), mixed);

    expect(windows.size).toBe(20);
    expect([...windows.keys()].every((i) => mixed.kinds[i] !== 'vehicle')).toBe(true);
  });

  it('refuses a device id that is not in the fleet, or that cannot show the anomaly', () => {
    const mixed = fleet(3, 'mixed');

    expect(() => resolveScenario(parseScenario({ anomalies: [{ kind: 'silent', devices: ['sim-09999'], at: 0 }] }), mixed)).toThrow(
      /sim-09999 is not one of the simulated devices/,
    );
    expect(() =>
      resolveScenario(parseScenario({ anomalies: [{ kind: 'battery-low', devices: ['sim-00003'], at: 0 }] }), mixed),
    ).toThrow(/sim-00003 is a vehicle/);
  });
});
