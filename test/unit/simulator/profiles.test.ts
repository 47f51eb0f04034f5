import { describe, expect, it } from 'vitest';
import { generateReadings } from '../../../simulator/device.js';
import type { DeviceKind } from '../../../simulator/profiles/index.js';
import { kindOf, PROFILES } from '../../../simulator/profiles/index.js';

/** A day of readings, one a minute, for several devices of one kind. */
function day(kind: DeviceKind, devices = 5) {
  return Array.from({ length: devices }, (_, index) =>
    generateReadings(
      { seed: 'profiles', index, kind, rate: 1 / 60, startOffsetMs: 0, jitter: 0.2, windows: [], env: { startHour: 0 } },
      24 * 3600 * 1000,
    ),
  );
}

const values = (readings: ReturnType<typeof day>, metric: string): number[] =>
  readings.flat().map((r) => r.metrics[metric] as number);

describe.each(Object.values(PROFILES))('profile $kind', (profile) => {
  it('carries exactly its declared metrics, all finite numbers', () => {
    const readings = day(profile.kind, 2).flat();

    for (const r of readings) {
      expect(Object.keys(r.metrics).sort()).toEqual([...profile.metrics].sort());
      expect(Object.values(r.metrics).every(Number.isFinite)).toBe(true);
    }
  });
});

describe('env-sensor profile', () => {
  it('stays in indoor ranges and never trips the default alarms on its own', () => {
    const readings = day('env-sensor');

    const t = values(readings, 'temperature');
    expect(Math.min(...t)).toBeGreaterThan(12);
    expect(Math.max(...t)).toBeLessThan(30);
    const h = values(readings, 'humidity');
    expect(Math.min(...h)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...h)).toBeLessThanOrEqual(98);
    expect(Math.min(...values(readings, 'battery'))).toBeGreaterThan(3.3);
  });

  it('is warmer in the afternoon than before dawn (daily cycle)', () => {
    const [device] = day('env-sensor', 1);
    const at = (hour: number) =>
      (device ?? [])
        .filter((r) => Math.abs(r.offsetMs / 3_600_000 - hour) < 1)
        .map((r) => r.metrics.temperature as number);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

    expect(mean(at(15))).toBeGreaterThan(mean(at(3)) + 1);
  });

  it('drains its battery over the day', () => {
    const [device = []] = day('env-sensor', 1);

    expect((device.at(-1)?.metrics.battery as number) < (device[0]?.metrics.battery as number)).toBe(true);
  });
});

describe('cold-chain profile', () => {
  it('holds the fridge cold, opens its door now and then, and moves along a GPS track', () => {
    const readings = day('cold-chain');

    const t = values(readings, 'temperature');
    expect(Math.min(...t)).toBeGreaterThan(-2);
    expect(Math.max(...t)).toBeLessThan(12);
    expect(values(readings, 'door').some((d) => d === 1)).toBe(true);
    expect(values(readings, 'door').every((d) => d === 0 || d === 1)).toBe(true);
    const [device = []] = readings;
    const first = device[0]?.metrics;
    const last = device.at(-1)?.metrics;
    const moved = Math.hypot((last?.lat ?? 0) - (first?.lat ?? 0), (last?.lon ?? 0) - (first?.lon ?? 0));
    expect(moved).toBeGreaterThan(0.05);
    expect(values(readings, 'lat').every((x) => x >= -90 && x <= 90)).toBe(true);
  });
});

describe('vehicle profile', () => {
  it('drives at road speeds, warms its engine to operating temperature and burns fuel', () => {
    const readings = day('vehicle');

    const speed = values(readings, 'speed');
    expect(Math.min(...speed)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...speed)).toBeLessThan(140);
    expect(speed.some((s) => s > 30)).toBe(true);
    expect(speed.some((s) => s === 0)).toBe(true);
    const engine = values(readings, 'engineTemp');
    expect(Math.max(...engine)).toBeGreaterThan(80);
    expect(Math.max(...engine)).toBeLessThan(105);
    const fuel = values(readings, 'fuel');
    expect(fuel.every((f) => f >= 0 && f <= 100)).toBe(true);
    const heading = values(readings, 'heading');
    expect(heading.every((h) => h >= 0 && h < 360)).toBe(true);
  });
});

describe('kindOf', () => {
  it('deals the kinds in turn under mixed and keeps one kind otherwise', () => {
    expect([0, 1, 2, 3].map((i) => kindOf('mixed', i))).toEqual(['env-sensor', 'cold-chain', 'vehicle', 'env-sensor']);
    expect(kindOf('vehicle', 7)).toBe('vehicle');
  });
});
