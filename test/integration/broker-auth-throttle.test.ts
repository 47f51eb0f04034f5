/**
 * The brake on password guessing, on the real broker over 127.0.0.1: repeated wrong passwords for one
 * client id, or from one address, make the next attempts wait longer and longer (logged), the right
 * password included; a fleet connecting with its right passwords waits for nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Log } from '../../lambdas/ports/observability.js';
import { createBroker } from '../../infra/local/broker/index.js';
import type { Broker, BrokerOptions } from '../../infra/local/broker/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { connectRaw } from '../helpers/mqtt-wire.js';

const BAD_USERNAME_OR_PASSWORD = 4;

describe('brake on password guessing', () => {
  let dir: string;
  let registry: DeviceRegistry;
  let broker: Broker;
  let port: number;
  let warnings: { message: string; extra?: Record<string, unknown> }[];
  const sockets: Socket[] = [];

  const log: Log = {
    debug() {},
    info() {},
    warn: (message, extra) => warnings.push({ message, ...(extra === undefined ? {} : { extra }) }),
    error() {},
  };

  const start = async (authThrottle: BrokerOptions['authThrottle']) => {
    broker = createBroker({ registry, log, onTelemetry: () => undefined, ...(authThrottle === undefined ? {} : { authThrottle }) });
    port = (await broker.listen({ host: '127.0.0.1', mqttPort: 0 })).mqttPort;
  };
  const attempt = async (clientId: string, password: string) => {
    const result = await connectRaw(port, clientId, clientId, password);
    sockets.push(result.socket);
    return result;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'broker-throttle-'));
    registry = DeviceRegistry.open(join(dir, 'devices.db'));
    warnings = [];
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await broker?.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes each wrong password for one client id wait longer than the last, and the right one after them too', async () => {
    await start({ freeFailuresPerClient: 2, freeFailuresPerAddress: 1_000, baseDelayMs: 100 });
    const { password } = registry.add('sensor-target');

    const wrong = [];
    const delayedSoFar: number[] = [];
    for (let i = 0; i < 5; i++) {
      wrong.push(await attempt('sensor-target', `guess-${i}`));
      delayedSoFar.push(broker.stats().connectsDelayed);
    }
    const right = await attempt('sensor-target', password);
    const again = await attempt('sensor-target', password);

    expect(wrong.map((r) => r.returnCode)).toEqual(Array(5).fill(BAD_USERNAME_OR_PASSWORD));
    // The first two are free; each later one waits (and is counted).
    expect(delayedSoFar).toEqual([0, 0, 1, 2, 3]);
    const [, , third, fourth, fifth] = wrong.map((r) => r.ms) as [number, number, number, number, number];
    // The waits are 100, 200, 400 and 800 ms after the failure before (the client's reconnect takes a
    // little of each), so each attempt takes longer than the last.
    expect(third).toBeGreaterThanOrEqual(90);
    expect(fourth).toBeGreaterThanOrEqual(180);
    expect(fifth).toBeGreaterThanOrEqual(360);
    expect(right.returnCode).toBe(0);
    expect(right.ms).toBeGreaterThanOrEqual(720);
    expect(third < fourth && fourth < fifth && fifth < right.ms).toBe(true);
    // The right password clears the client id's record: the next connect is not slowed.
    expect(again.returnCode).toBe(0);
    expect(broker.stats().connectsDelayed, 'the right password waited once; the connect after it did not').toBe(4);
    const delayed = warnings.find((w) => w.message === 'mqtt connect delayed after repeated failed attempts');
    expect(delayed?.extra).toMatchObject({ clientId: 'sensor-target', remoteAddress: '127.0.0.1', because: 'client id', failures: 2 });
    expect(delayed?.extra?.delayMs).toBeGreaterThan(50);
  });

  it('slows guesses spread over many client ids from one address', async () => {
    await start({ freeFailuresPerClient: 100, freeFailuresPerAddress: 3, baseDelayMs: 150 });
    for (let i = 0; i < 3; i++) expect((await attempt(`unknown-${i}`, 'guess')).returnCode).toBe(BAD_USERNAME_OR_PASSWORD);
    expect(broker.stats().connectsDelayed).toBe(0);

    const fresh = await attempt('unknown-fresh', 'guess');

    expect(fresh.returnCode).toBe(BAD_USERNAME_OR_PASSWORD);
    expect(fresh.ms).toBeGreaterThanOrEqual(135);
    expect(broker.stats().connectsDelayed).toBe(1);
    expect(warnings.find((w) => w.message === 'mqtt connect delayed after repeated failed attempts')?.extra).toMatchObject({ because: 'address', failures: 3 });
  });

  it('never delays a fleet connecting at once with its right passwords, beside a device with a stale one', async () => {
    await start(undefined);
    const fleet = await registry.addMany(Array.from({ length: 1_000 }, (_, i) => ({ deviceId: `sim-${String(i).padStart(5, '0')}` })));
    registry.add('sensor-stale');
    for (let i = 0; i < 4; i++) expect((await attempt('sensor-stale', 'old-password')).returnCode).toBe(BAD_USERNAME_OR_PASSWORD);
    const delayedBefore = broker.stats().connectsDelayed;

    const results = await Promise.all(fleet.map(({ deviceId, password }) => attempt(deviceId, password)));

    expect(results.filter((r) => r.returnCode !== 0)).toEqual([]);
    expect(broker.stats().connectsDelayed - delayedBefore).toBe(0);
    expect(broker.stats().connectsAccepted).toBe(1_000);
  });
});
