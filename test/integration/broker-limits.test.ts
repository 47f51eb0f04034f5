/**
 * What one client can make the broker hold: a packet announcing more than the contract allows is
 * refused as soon as its fixed header is read (over TCP and WebSocket, before and after
 * authentication), so streaming its body grows no memory; connections over the caps wait unread or
 * are closed. Real broker, raw sockets and MQTT.js over 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../lambdas/ports/observability.js';
import { telemetryTopic } from '../../infra/pipeline.js';
import { createBroker } from '../../infra/local/broker/index.js';
import type { Broker, BrokerOptions } from '../../infra/local/broker/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { eventually } from '../helpers/local-stack.js';
import { connectPacket, fixedHeader, openSocket } from '../helpers/mqtt-wire.js';

const MiB = 1024 * 1024;
/** What the test streams after a huge fixed header: the broker would hold all of it without the guard. */
const STREAMED_BYTES = 96 * MiB;
/** Growth allowed while streaming: loopback and socket buffers, the test's own chunk. */
const GROWTH_ALLOWED_BYTES = 24 * MiB;

/** Buffers this process holds outside the V8 heap (where socket data and parser buffers live), plus the heap. */
function heldBytes(): number {
  const usage = process.memoryUsage();
  return usage.arrayBuffers + usage.heapUsed;
}

interface Streamed {
  /** Bytes the socket took before the broker closed it. */
  readonly written: number;
  /** Highest growth of `heldBytes()` seen while streaming. */
  readonly peakGrowth: number;
}

/** Writes `header`, then zeros until `total` or until the broker closes the socket. */
async function streamAfterHeader(socket: Socket, header: Buffer, total: number): Promise<Streamed> {
  const chunk = Buffer.alloc(MiB);
  const baseline = heldBytes();
  let peakGrowth = 0;
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  socket.on('error', () => undefined);
  let written = 0;
  socket.write(header);
  while (!closed && written < total) {
    const ok = socket.write(chunk);
    written += chunk.length;
    peakGrowth = Math.max(peakGrowth, heldBytes() - baseline);
    if (!ok) await new Promise<void>((resolve) => {
      const done = () => { socket.off('drain', done); socket.off('close', done); resolve(); };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }
  return { written, peakGrowth };
}

const whenClosed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('broker limits', () => {
  let dir: string;
  let registry: DeviceRegistry;
  let broker: Broker;
  let mqttPort: number;
  let wsPort: number;
  const clients: MqttClient[] = [];
  const sockets: Socket[] = [];

  const start = async (options: Partial<BrokerOptions> = {}) => {
    broker = createBroker({ registry, log: silentLog, onTelemetry: () => undefined, ...options });
    const ports = await broker.listen({ host: '127.0.0.1', mqttPort: 0, wsPort: 0 });
    mqttPort = ports.mqttPort;
    wsPort = ports.wsPort as number;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'broker-limits-'));
    registry = DeviceRegistry.open(join(dir, 'devices.db'));
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker?.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connectDevice = async (deviceId: string, url = `mqtt://127.0.0.1:${mqttPort}`) => {
    const { username, password } = registry.upsert(deviceId);
    const client = mqtt.connect(url, { clientId: deviceId, username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return client;
  };

  it('closes an unauthenticated connection whose CONNECT announces 200 MiB before holding its body', async () => {
    await start();
    const socket = await openSocket(mqttPort);
    sockets.push(socket);

    const { written, peakGrowth } = await streamAfterHeader(socket, fixedHeader(1, 0, 200 * MiB), STREAMED_BYTES);

    await whenClosed(socket);
    expect(written, 'bytes the broker let through before closing').toBeLessThan(STREAMED_BYTES);
    expect(peakGrowth).toBeLessThan(GROWTH_ALLOWED_BYTES);
    expect(broker.stats().connections.refusedPackets).toBe(1);
  });

  it('closes a device whose PUBLISH announces 256 MiB, and keeps serving the others', async () => {
    await start();
    const other = await connectDevice('sensor-calm');
    const { username, password } = registry.upsert('sensor-huge');
    const socket = await openSocket(mqttPort);
    sockets.push(socket);
    const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(connectPacket('sensor-huge', username, password));
    expect([...(await connack)]).toEqual([0x20, 2, 0, 0]);

    const topic = Buffer.from(telemetryTopic('sensor-huge'));
    const publishStart = Buffer.concat([fixedHeader(3, 2, 268_435_455), Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([0, 1])]);
    const { written, peakGrowth } = await streamAfterHeader(socket, publishStart, STREAMED_BYTES);

    await whenClosed(socket);
    expect(written).toBeLessThan(STREAMED_BYTES);
    expect(peakGrowth).toBeLessThan(GROWTH_ALLOWED_BYTES);
    await other.publishAsync(telemetryTopic('sensor-calm'), '{"metrics":{"t":1}}', { qos: 1 });
    expect(other.connected).toBe(true);
  });

  it('closes a WebSocket connection whose CONNECT announces 200 MiB, spread over many WebSocket messages', async () => {
    await start();
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}`, 'mqtt');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    const baseline = heldBytes();
    let peakGrowth = 0;
    ws.send(fixedHeader(1, 0, 200 * MiB));
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    while (!isClosed && sent < STREAMED_BYTES) {
      await new Promise<void>((resolve) => ws.send(chunk, () => resolve()));
      sent += chunk.length;
      // The send callbacks can come back without an I/O turn; the broker shares this event loop.
      await new Promise((resolve) => setImmediate(resolve));
      peakGrowth = Math.max(peakGrowth, heldBytes() - baseline);
    }

    await closed;
    expect(sent).toBeLessThan(STREAMED_BYTES);
    expect(peakGrowth).toBeLessThan(GROWTH_ALLOWED_BYTES);
    expect(broker.stats().connections.refusedPackets).toBe(1);
  });

  it('keeps connections over the unauthenticated cap waiting unread, and serves them as slots free', async () => {
    await start({ maxUnauthenticated: 2 });
    const idle = [await openSocket(mqttPort), await openSocket(mqttPort)];
    sockets.push(...idle);
    await eventually(() => broker.stats().connections.unauthenticated === 2 || undefined, 5_000, 'two idle connections being read');

    const device = connectDevice('sensor-waiting');
    await eventually(() => broker.stats().connections.waiting === 1 || undefined, 5_000, 'the device to wait for a slot');
    expect(broker.stats().connectsAccepted).toBe(0);

    idle[0]?.destroy();
    const client = await device;
    expect(client.connected).toBe(true);
    expect(broker.stats().connections).toMatchObject({ unauthenticated: 1, waiting: 0 });
  });

  it('closes a connection over the connection cap at once', async () => {
    await start({ maxConnections: 2 });
    await connectDevice('sensor-a');
    await connectDevice('sensor-b');
    const third = await openSocket(mqttPort);
    sockets.push(third);

    await whenClosed(third);
    expect(broker.stats().connections).toMatchObject({ open: 2, refusedOverConnectionCap: 1 });
  });
});
