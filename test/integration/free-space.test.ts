/**
 * The free-space headroom on the real local stack: when the data directory's file system has less
 * free space than the headroom, new telemetry is refused (the connection is closed without PUBACK,
 * one log line and a counter when it engages and when it releases, the per-message warnings
 * rate-limited with a count); once space is back, the device's resend is acknowledged and every
 * acknowledged reading is stored exactly once. The file system's free space is injected (the probe),
 * so the test needs no small disk; the README gives a run on a real 8 MiB tmpfs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import type { Log } from '../../lambdas/ports/observability.js';
import { telemetryTopic } from '../../infra/pipeline.js';
import { startLocalStack, type LocalStack } from '../../infra/local/stack.js';
import { eventually } from '../helpers/local-stack.js';

const MiB = 1024 * 1024;

describe('free-space headroom', () => {
  let dir: string;
  let stack: LocalStack | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses new telemetry below the headroom, then stores the resent reading once space is back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ft-free-space-'));
    const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
    const record = (level: string) => (message: string, extra?: Record<string, unknown>) => lines.push({ level, message, ...(extra === undefined ? {} : { extra }) });
    const log: Log = { debug() {}, info: record('info'), warn: record('warn'), error: record('error') };
    let freeBytes = 500 * MiB;
    stack = await startLocalStack({
      dataDir: dir,
      mqttPort: 0,
      wsPort: null,
      thresholds: parseThresholds({ rules: [] }),
      log,
      minFreeBytes: 64 * MiB,
      freeSpaceProbe: () => Promise.resolve(freeBytes),
      // Only the test's explicit checks move it (plus the estimate, far from the headroom here).
      freeSpaceCheckMs: 3_600_000,
    });
    const guard = stack.freeSpace;
    if (guard === undefined) throw new Error('the headroom is on by default');
    const { password } = stack.registry.add('sensor-disk');
    const client = mqtt.connect(`mqtt://127.0.0.1:${stack.mqttPort}`, {
      clientId: 'sensor-disk',
      username: 'sensor-disk',
      password,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 100,
    });
    clients.push(client);
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const reading = (seq: number) => JSON.stringify({ ts: Date.UTC(2026, 0, 1, 0, 0, seq), seq, metrics: { temperature: 20 + seq } });
    await client.publishAsync(telemetryTopic('sensor-disk'), reading(1), { qos: 1 });

    freeBytes = 10 * MiB;
    await guard.check();
    expect(guard.stats()).toMatchObject({ engaged: true, engagements: 1, freeBytes: 10 * MiB });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acknowledged = false;
    const second = client.publishAsync(telemetryTopic('sensor-disk'), reading(2), { qos: 1 }).then(() => {
      acknowledged = true;
    });
    await closed;
    expect(acknowledged, 'no PUBACK below the headroom').toBe(false);
    // The client keeps reconnecting and resending; each resend is refused again.
    await eventually(() => (guard.stats().refused >= 3 ? true : undefined), 10_000, 'three refused resends');
    expect(acknowledged).toBe(false);

    freeBytes = 200 * MiB;
    await guard.check();
    await second;
    await stack.whenIdle();

    const stored = stack.store.queryReadings({ deviceId: 'sensor-disk', order: 'asc' });
    expect(stored.map((r) => r.seq)).toEqual([1, 2]);
    expect(guard.stats()).toMatchObject({ engaged: false, engagements: 1, releases: 1 });
    const engagedLines = lines.filter((l) => l.extra?.metric === 'FreeSpaceHeadroomEngaged');
    const releasedLines = lines.filter((l) => l.extra?.metric === 'FreeSpaceHeadroomReleased');
    expect(engagedLines).toHaveLength(1);
    expect(engagedLines[0]?.extra).toMatchObject({ freeBytes: 10 * MiB, minFreeBytes: 64 * MiB });
    expect(releasedLines).toHaveLength(1);
    expect(releasedLines[0]?.extra?.refusedWhileEngaged).toBe(guard.stats().refused);
    // One line for the first refused message; the others are counted, not written one by one.
    const refusedLines = lines.filter((l) => l.message.startsWith('mqtt telemetry not accepted'));
    expect(refusedLines).toHaveLength(1);
    expect(refusedLines[0]?.extra?.error).toMatch(/below the headroom of 67108864 bytes/);
  });

  it('refuses to start accepting when the disk is already below the headroom', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ft-free-space-'));
    stack = await startLocalStack({
      dataDir: dir,
      mqttPort: 0,
      wsPort: null,
      thresholds: parseThresholds({ rules: [] }),
      log: { debug() {}, info() {}, warn() {}, error() {} },
      minFreeBytes: 64 * MiB,
      freeSpaceProbe: () => Promise.resolve(1 * MiB),
    });
    const { password } = stack.registry.add('sensor-early');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${stack.mqttPort}`, { clientId: 'sensor-early', username: 'sensor-early', password, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(client);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    void client.publishAsync(telemetryTopic('sensor-early'), '{"seq":1,"metrics":{"t":1}}', { qos: 1 }).catch(() => undefined);
    await closed;

    expect(stack.freeSpace?.stats()).toMatchObject({ engaged: true, refused: 1 });
    expect(stack.store.queryReadings({ deviceId: 'sensor-early' })).toEqual([]);
  });
});
