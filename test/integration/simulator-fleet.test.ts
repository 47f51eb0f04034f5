import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Aedes } from 'aedes';
import type { AedesOptions } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { alarmTopic } from '../../infra/pipeline.js';
import { BrokerUnreachableError } from '../../simulator/errors.js';
import { runFleet } from '../../simulator/fleet.js';
import { until } from '../helpers/wait.js';

interface Received {
  readonly clientId: string;
  readonly topic: string;
  readonly remoteAddress: string | undefined;
  readonly message: { ts: number; seq: number; type: string; metrics: Record<string, number> };
}

interface TestBroker {
  readonly broker: Aedes;
  readonly port: number;
  readonly received: Received[];
  close(): Promise<void>;
}

/** A plain aedes on 127.0.0.1 (port 0 unless given), recording every device publish. */
async function startBroker(options: { port?: number; aedes?: AedesOptions; received?: Received[] } = {}): Promise<TestBroker> {
  const broker = await Aedes.createBroker(options.aedes ?? {});
  const received = options.received ?? [];
  const addresses = new Map<string, string | undefined>();
  broker.on('client', (client) => {
    addresses.set(client.id, (client.conn as net.Socket).remoteAddress);
  });
  broker.on('publish', (packet, client) => {
    if (client === null || !packet.topic.startsWith('dt/')) return;
    received.push({
      clientId: client.id,
      topic: packet.topic,
      remoteAddress: addresses.get(client.id),
      message: JSON.parse(packet.payload.toString()) as Received['message'],
    });
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    broker,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}

/** Seqs each device's messages carried, in arrival order. */
function seqsByDevice(received: readonly Received[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of received) out.set(r.clientId, [...(out.get(r.clientId) ?? []), r.message.seq]);
  return out;
}

const quick = { lingerS: 0, drainTimeoutS: 10, rampPerS: 0, backoffInitialMs: 50, backoffMaxMs: 400 } as const;

describe('runFleet against a real aedes broker', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('acknowledges every reading of a short QoS 1 run and counts it right', async () => {
    const b = await startBroker();
    cleanups.push(() => b.close());

    const summary = await runFleet({
      ...quick,
      devices: 20,
      rate: 2,
      durationS: 3,
      qos: 1,
      seed: 'short-run',
      endpoint: `mqtt://127.0.0.1:${b.port}`,
    });

    expect(summary.devices).toBe(20);
    expect(summary.connected).toBe(20);
    expect(summary.generated).toBeGreaterThan(80);
    expect(summary.sent).toBe(summary.generated);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.unsent).toBe(0);
    expect(summary.errors).toBe(0);
    expect(summary.latencyMs.p50).not.toBeNull();
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50 as number);
    expect(b.received.length).toBe(summary.sent);
    const bySeq = seqsByDevice(b.received);
    expect(bySeq.size).toBe(20);
    for (const [deviceId, seqs] of bySeq) {
      expect(seqs, deviceId).toEqual(seqs.map((_, i) => i));
    }
    for (const r of b.received) {
      expect(r.topic).toBe(`dt/fleet/${r.clientId}/telemetry`);
      expect(r.message.ts).toEqual(expect.any(Number));
      expect(['env-sensor', 'cold-chain', 'vehicle']).toContain(r.message.type);
      expect(Object.keys(r.message.metrics).length).toBeGreaterThan(0);
    }
  });

  it('sends the same readings (values and ts offsets) for the same seed', async () => {
    const b = await startBroker();
    cleanups.push(() => b.close());
    const run = async () => {
      const start = b.received.length;
      const summary = await runFleet({ ...quick, devices: 3, rate: 5, durationS: 1, seed: 'same', endpoint: `mqtt://127.0.0.1:${b.port}` });
      const t0 = Math.min(...b.received.slice(start).map((r) => r.message.ts)) ;
      return {
        summary,
        readings: b.received
          .slice(start)
          .map((r) => ({ id: r.clientId, seq: r.message.seq, metrics: r.message.metrics, ts: r.message.ts - t0 }))
          .sort((x, y) => x.id.localeCompare(y.id) || x.seq - y.seq),
      };
    };

    const first = await run();
    const second = await run();

    expect(first.readings.length).toBeGreaterThan(5);
    expect(second.readings).toEqual(first.readings);
  });

  it('counts everything sent but nothing acknowledged under QoS 0', async () => {
    const b = await startBroker();
    cleanups.push(() => b.close());

    const summary = await runFleet({ ...quick, devices: 5, rate: 5, durationS: 1, qos: 0, endpoint: `mqtt://127.0.0.1:${b.port}` });

    expect(summary.sent).toBe(summary.generated);
    expect(summary.acked).toBe(0);
    expect(summary.latencyMs.p50).toBeNull();
    // QoS 0 has no acknowledgement: the last messages may still be in flight when the run ends.
    await until(() => b.received.length >= summary.sent, 5_000, `the broker to receive all ${summary.sent} QoS 0 messages`);
    expect(b.received.length).toBe(summary.sent);
  });

  it('overheats the chosen share at the chosen time and stops sending for a silent device', async () => {
    const b = await startBroker();
    cleanups.push(() => b.close());

    const summary = await runFleet({
      ...quick,
      devices: 20,
      rate: 5,
      durationS: 3,
      profile: 'env-sensor',
      seed: 'scenario',
      scenario: {
        anomalies: [
          { kind: 'overheat', share: 0.1, at: 1 },
          { kind: 'silent', devices: ['sim-00007'], at: 1, for: 1 },
        ],
      },
      endpoint: `mqtt://127.0.0.1:${b.port}`,
    });

    const t0 = Math.min(...b.received.map((r) => r.message.ts));
    const hot = new Set(b.received.filter((r) => (r.message.metrics.temperature as number) > 80).map((r) => r.clientId));
    expect(hot.size).toBe(2);
    for (const r of b.received.filter((x) => hot.has(x.clientId))) {
      // t0 is the earliest reading, at or after the fleet start: an overheat reading is never before t = 1 s.
      if ((r.message.metrics.temperature as number) > 80) expect(r.message.ts - t0).toBeGreaterThanOrEqual(1000 - 200);
    }
    for (const r of b.received.filter((x) => !hot.has(x.clientId))) expect(r.message.metrics.temperature).toBeLessThan(75);
    const silent = b.received.filter((r) => r.clientId === 'sim-00007').map((r) => r.message.ts - t0);
    const quietGap = Math.max(...silent.slice(1).map((ts, i) => ts - (silent[i] as number)));
    expect(quietGap).toBeGreaterThanOrEqual(1000);
    expect(summary.acked).toBe(summary.generated);
  });

  it('counts the alarm events of its own devices as the operator', async () => {
    const b = await startBroker();
    cleanups.push(() => b.close());
    const event = (deviceId: string, state: 'ALARM' | 'OK') =>
      Buffer.from(JSON.stringify({ alarmId: `${deviceId}/overheat`, deviceId, ruleId: 'overheat', state }));
    let published = false;
    b.broker.on('publish', (packet, client) => {
      // After the first telemetry the operator is subscribed: raise and clear one alarm, plus one for a stranger.
      if (published || client === null || !packet.topic.startsWith('dt/')) return;
      published = true;
      for (const [id, state] of [['sim-00001', 'ALARM'], ['sim-00001', 'OK'], ['other-device', 'ALARM']] as const) {
        b.broker.publish({ cmd: 'publish', topic: alarmTopic(id), payload: event(id, state), qos: 1, retain: false, dup: false }, () => undefined);
      }
    });

    const summary = await runFleet({ ...quick, lingerS: 0.5, devices: 2, rate: 5, durationS: 1, endpoint: `mqtt://127.0.0.1:${b.port}` });

    expect(summary.alarms).toBe(2);
    expect(summary.alarmsRaised).toBe(1);
    expect(summary.alarmsCleared).toBe(1);
  });

  it('reconnects with backoff after the broker restarts and delivers the buffered readings in seq order', async () => {
    const received: Received[] = [];
    let b = await startBroker({ received });
    const port = b.port;
    cleanups.push(() => b.close());
    const before = received;
    const restart = (async () => {
      await until(() => before.length >= 10, 10_000, 'the fleet to deliver ten readings before the restart');
      await b.close();
      // The outage itself: long enough for every client to lose its connection and back off at least
      // once (500 ms first backoff). A duration under test, not a wait for something to happen.
      await sleep(1000);
      b = await startBroker({ port, received: [] });
    })();

    const summary = await runFleet({ ...quick, devices: 5, rate: 10, durationS: 4, seed: 'restart', endpoint: `mqtt://127.0.0.1:${port}` });
    await restart;

    expect(summary.offline).toBeGreaterThan(0);
    expect(summary.reconnects).toBeGreaterThanOrEqual(5);
    expect(summary.acked).toBe(summary.generated);
    expect(summary.unsent).toBe(0);
    const after = seqsByDevice(b.received);
    const all = seqsByDevice([...before, ...b.received]);
    for (const [deviceId, seqs] of after) {
      // Each connection's stream is in strictly increasing seq order...
      expect(seqs.slice(1).every((s, i) => s > (seqs[i] as number)), deviceId).toBe(true);
    }
    for (const [deviceId, seqs] of all) {
      // ...and together they hold every reading, 0..last, with no gap (a resend may repeat one).
      const distinct = [...new Set(seqs)].sort((x, y) => x - y);
      expect(distinct, deviceId).toEqual(distinct.map((_, i) => i));
    }
    expect([...all.values()].reduce((n, s) => n + new Set(s).size, 0)).toBe(summary.generated);
  });

  it('spreads connections over the loopback source addresses it is given', async () => {
    const b = await startBroker();
    cleanups.push(() => b.close());

    await runFleet({ ...quick, devices: 6, rate: 5, durationS: 0.5, sourceAddresses: 3, alarms: false, endpoint: `mqtt://127.0.0.1:${b.port}` });

    const addresses = new Set(b.received.map((r) => r.remoteAddress?.replace(/^::ffff:/, '')));
    expect(addresses).toEqual(new Set(['127.0.0.1', '127.0.0.2', '127.0.0.3']));
  });

  it('gives up with a clear error after its bounded attempts when no broker listens', async () => {
    const b = await startBroker();
    const port = b.port;
    await b.close();

    const run = runFleet({ ...quick, devices: 2, rate: 1, durationS: 1, connectAttempts: 3, endpoint: `mqtt://127.0.0.1:${port}` });

    await expect(run).rejects.toThrow(BrokerUnreachableError);
    await expect(run).rejects.toThrow(new RegExp(`cannot connect to mqtt://127.0.0.1:${port} after 3 attempts: .*ECONNREFUSED`));
  });
});

describe('runFleet with the local registry and store', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('registers its devices and operator with new passwords and connects with them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sim-data-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const registry = DeviceRegistry.open(join(dataDir, 'devices.db'));
    cleanups.push(() => registry.close());
    const b = await startBroker({
      aedes: {
        authenticate: (client, username, password, done) => {
          registry.authenticate(username ?? '', password ?? Buffer.alloc(0)).then(
            (device) => done(null, device !== undefined && device.deviceId === client.id),
            (err: Error) => done(Object.assign(err, { returnCode: 5 as const }), false),
          );
        },
      },
    });
    cleanups.push(() => b.close());

    const summary = await runFleet({ ...quick, devices: 4, rate: 5, durationS: 1, profile: 'mixed', dataDir, endpoint: `mqtt://127.0.0.1:${b.port}` });

    expect(summary.errors).toBe(0);
    expect(summary.acked).toBe(summary.generated);
    expect(registry.list().map((d) => [d.deviceId, d.role, d.type])).toEqual([
      ['sim-00001', 'device', 'env-sensor'],
      ['sim-00002', 'device', 'cold-chain'],
      ['sim-00003', 'device', 'vehicle'],
      ['sim-00004', 'device', 'env-sensor'],
      ['sim-operator', 'operator', undefined],
    ]);
  });

  it('verifies through the store that every acknowledged reading was stored, and names what is missing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sim-data-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    DeviceRegistry.open(join(dataDir, 'devices.db')).close();
    const store = SqliteStore.open(join(dataDir, 'store.db'));
    cleanups.push(() => store.close());
    const b = await startBroker();
    cleanups.push(() => b.close());
    // Stand in for the pipeline: store what the broker took, except one reading.
    b.broker.on('publish', (packet, client) => {
      if (client === null || !packet.topic.startsWith('dt/')) return;
      const m = JSON.parse(packet.payload.toString()) as Received['message'];
      if (client.id === 'sim-00002' && m.seq === 1) return;
      void store.timeSeries.write([{ deviceId: client.id, ts: m.ts, seq: m.seq, type: m.type, metrics: m.metrics, receivedAt: Date.now() }]);
    });

    const summary = await runFleet({
      ...quick,
      devices: 3,
      rate: 5,
      durationS: 1,
      dataDir,
      register: false,
      verify: true,
      verifyTimeoutS: 1,
      endpoint: `mqtt://127.0.0.1:${b.port}`,
    });

    expect(summary.verify).toMatchObject({ checked: summary.acked, stored: summary.acked - 1, missing: 1, duplicates: 0, ok: false });
    expect(summary.verify?.missingExamples).toEqual([{ deviceId: 'sim-00002', seq: 1 }]);
  });
});
