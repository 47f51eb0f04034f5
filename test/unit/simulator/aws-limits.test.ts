/**
 * AWS IoT Core's broker limits as the simulator keeps them, on a fake clock (times are passed in):
 * the account's CONNECT rate, one CONNECT per client id per second, 100 publishes per second per
 * connection; and the options refused because they would break them.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AWS_IOT_LIMITS, ConnectionLimits, Pacer, awsLimitViolations } from '../../../simulator/aws-limits.js';
import { parseArgs } from '../../../simulator/main.js';
import { resolveFleetOptions } from '../../../simulator/options.js';

/** The most of `times` inside any one-second window [t, t + 1000). */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= 1000) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('Pacer', () => {
  it('gives 2,000 simultaneous callers slots no more than 500 in any second', () => {
    const pacer = new Pacer(500);
    const slots = Array.from({ length: 2000 }, () => pacer.reserve(0));

    expect(busiestSecond(slots)).toBe(500);
    expect(slots[0]).toBe(0);
    expect(slots[1999]).toBeCloseTo(3998, 6);
  });

  it('keeps any one-second window within the rate, whatever the arrival times', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 400 }), (rate, arrivals) => {
        const pacer = new Pacer(rate);
        const slots = [...arrivals].sort((a, b) => a - b).map((t) => pacer.reserve(t));
        expect(busiestSecond(slots)).toBeLessThanOrEqual(rate);
        // Never earlier than asked, never later than needed.
        for (const [i, t] of [...arrivals].sort((a, b) => a - b).entries()) expect(slots[i]).toBeGreaterThanOrEqual(t);
      }),
      { seed: 15, numRuns: 200 },
    );
  });

  it('does not hold back a caller when the rate leaves room', () => {
    const pacer = new Pacer(10);
    expect(pacer.reserve(0)).toBe(0);
    expect(pacer.reserve(500)).toBe(500);
    expect(pacer.reserve(501)).toBe(600);
  });

  it('refuses a rate of zero', () => {
    expect(() => new Pacer(0)).toThrow(/above 0/);
  });
});

describe('ConnectionLimits', () => {
  const aws = () => new ConnectionLimits({ connectsPerSecond: 500, minConnectIntervalMs: 1000, publishesPerSecond: 100 });

  it('never lets one client id CONNECT twice within a second, however fast it fails', () => {
    const limits = aws();
    const device = ConnectionLimits.fresh();
    const attempts = [0, 5, 40, 900, 1500].map((now) => limits.reserveConnect(device, now));

    expect(attempts).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('shares the account rate between devices while each keeps its own one-second spacing', () => {
    const limits = new ConnectionLimits({ connectsPerSecond: 2, minConnectIntervalMs: 1000 });
    const a = ConnectionLimits.fresh();
    const b = ConnectionLimits.fresh();

    expect([limits.reserveConnect(a, 0), limits.reserveConnect(b, 0), limits.reserveConnect(a, 0)]).toEqual([0, 500, 1000]);
  });

  it('spaces one connection\'s publishes so no second holds more than 100', () => {
    const limits = aws();
    const device = ConnectionLimits.fresh();
    const sent: number[] = [];
    // A device back from a disconnect with 1,000 buffered readings, pumped as fast as allowed.
    for (let now = 0; sent.length < 1000; now += 1) {
      const at = limits.publishAt(device, now);
      if (at <= now) {
        limits.published(device, now);
        sent.push(now);
      }
    }
    expect(busiestSecond(sent)).toBe(100);
    expect(sent[999]).toBe(9990);
  });

  it('does not pace publishes when no publish rate is set (locally)', () => {
    const limits = new ConnectionLimits({ connectsPerSecond: 100, minConnectIntervalMs: 0 });
    const device = ConnectionLimits.fresh();
    limits.published(device, 0);

    expect(limits.pacesPublishes).toBe(false);
    expect(limits.publishAt(device, 0)).toBe(0);
  });
});

describe('options that break AWS IoT limits', () => {
  const certs = mkdtempSync(join(tmpdir(), 'sim-limits-'));
  afterAll(() => rmSync(certs, { recursive: true, force: true }));
  const aws = ['--target', 'aws', '--endpoint', 'abc-ats.iot.eu-west-1.amazonaws.com', '--certs', certs];

  it('refuses more than 100 readings per second per device, with the reason', () => {
    expect(() => parseArgs([...aws, '--rate', '101'], certs)).toThrow('--rate: AWS IoT Core takes at most 100 publishes per second per connection, got 101');
  });

  it('refuses more than 100 unacknowledged QoS 1 publishes per connection, but not under QoS 0', () => {
    expect(() => parseArgs([...aws, '--inflight', '101'], certs)).toThrow(/--inflight: AWS IoT Core keeps at most 100 unacknowledged QoS 1/);
    expect(awsLimitViolations({ rate: 1, inflight: 500, qos: 0, connectRate: 500 })).toEqual([]);
  });

  it('takes the limits themselves', () => {
    expect(() => parseArgs([...aws, '--rate', '100', '--inflight', '100'], certs)).not.toThrow();
  });

  it('keeps them only against AWS: the local stack takes any rate', () => {
    expect(() => parseArgs(['--no-register', '--rate', '500', '--inflight', '200'], certs)).not.toThrow();
  });

  it("paces connects at the account's 500 per second by default on AWS, at --connect-rate when given, and not at all locally", () => {
    expect(resolveFleetOptions(parseArgs(aws, certs).options).connectRate).toBe(AWS_IOT_LIMITS.connectsPerSecondPerAccount);
    expect(resolveFleetOptions(parseArgs([...aws, '--connect-rate', '1000'], certs).options).connectRate).toBe(1000);
    expect(resolveFleetOptions(parseArgs(['--no-register'], certs).options).connectRate).toBeUndefined();
  });
});
