import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../../infra/local/broker/auth-throttle.js';

const options = { freeFailuresPerClient: 3, freeFailuresPerAddress: 20, baseDelayMs: 500, maxDelayMs: 30_000, forgetAfterMs: 900_000, maxTracked: 10_000 };

/** Attempts one after another, each failing as soon as it is checked: the waits they got. */
function serialFailures(throttle: AuthThrottle, clientId: string, address: string, attempts: number): number[] {
  let now = 0;
  const waits: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const { delayMs } = throttle.beforeAttempt(clientId, address, now);
    waits.push(delayMs);
    now += delayMs;
    throttle.failed(clientId, address, now);
  }
  return waits;
}

describe('auth throttle', () => {
  it('lets the first failures of a client id through, then doubles the wait after each one, up to the cap', () => {
    const waits = serialFailures(new AuthThrottle(options), 'sensor-1', '10.0.0.1', 12);
    expect(waits).toEqual([0, 0, 0, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('queues parallel attempts behind one another, so more connections do not guess faster', () => {
    const throttle = new AuthThrottle(options);
    for (let i = 0; i < 3; i++) throttle.failed('sensor-1', '10.0.0.1', 0);
    const waits = Array.from({ length: 5 }, () => throttle.beforeAttempt('sensor-1', '10.0.0.1', 0).delayMs);
    expect(waits).toEqual([500, 1_000, 1_500, 2_000, 2_500]);
  });

  it('slows guesses spread over many client ids from one address', () => {
    const throttle = new AuthThrottle(options);
    for (let i = 0; i < 20; i++) throttle.failed(`guess-${i}`, '203.0.113.9', 0);
    expect(throttle.beforeAttempt('never-seen', '203.0.113.9', 0)).toEqual({ delayMs: 500, reason: 'address', failures: 20 });
    expect(throttle.beforeAttempt('never-seen', '203.0.113.10', 0).delayMs).toBe(0);
  });

  it('forgets a client id on its right password, an address only after a quiet period', () => {
    const throttle = new AuthThrottle(options);
    for (let i = 0; i < 25; i++) throttle.failed('sensor-1', '10.0.0.1', 0);
    throttle.succeeded('sensor-1');
    expect(throttle.beforeAttempt('sensor-1', '10.0.0.2', 1).delayMs).toBe(0);
    expect(throttle.beforeAttempt('sensor-2', '10.0.0.1', 1).reason).toBe('address');
    expect(throttle.beforeAttempt('sensor-2', '10.0.0.1', 900_001).delayMs).toBe(0);
  });

  it('never delays a fleet of 10,000 devices connecting from one address with their right passwords, even beside a misconfigured one', () => {
    const throttle = new AuthThrottle(options);
    // One device with a stale password keeps failing (below the address's free failures).
    serialFailures(throttle, 'sensor-stale', '127.0.0.1', 10);
    const started = performance.now();
    let delayed = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) {
        const id = `sim-${String(i).padStart(5, '0')}`;
        if (throttle.beforeAttempt(id, '127.0.0.1', 100_000).delayMs > 0) delayed += 1;
        throttle.succeeded(id);
      }
    }
    const ms = performance.now() - started;
    expect(delayed).toBe(0);
    // 20,000 decisions: a Map lookup each, far below one millisecond per thousand.
    expect(ms).toBeLessThan(200);
    expect(throttle.tracked()).toEqual({ clientIds: 1, addresses: 1 });
  });

  it('remembers a bounded number of keys, the oldest going first', () => {
    const throttle = new AuthThrottle({ ...options, maxTracked: 100 });
    for (let i = 0; i < 1_000; i++) throttle.failed(`guess-${i}`, `10.0.${i >> 8}.${i & 255}`, 0);
    expect(throttle.tracked()).toEqual({ clientIds: 100, addresses: 100 });
  });
});
