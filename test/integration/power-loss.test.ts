/**
 * A power cut as the store sees it: store.db goes back to an earlier committed state (what an OS
 * crash leaves of commits that were never fsynced) while stream.db keeps its later checkpoints (they
 * were fsynced with the appends). The stack must notice on its next start and replay what the store
 * lost: every acknowledged reading stored exactly once, the alarm state as if nothing happened, and
 * no alarm transition published or recorded twice.
 *
 * The earlier state is a consistent copy taken with SQLite's online backup while the stack runs. It
 * is taken when no alarm transition is pending: a transition is made durable before it is published
 * (WriteGroup.commitBefore), so a real power cut cannot roll the store back past a published one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { telemetryTopic } from '../../infra/pipeline.js';
import { eventually, startTestStack } from '../helpers/local-stack.js';
import type { TestStack } from '../helpers/local-stack.js';

const THRESHOLDS = {
  rules: [
    {
      id: 'overheat',
      metric: 'temperature',
      match: { type: 'env-sensor' },
      when: { above: 80 },
      clear: { below: 75 },
      for: { samples: 3 },
      severity: 'critical',
    },
  ],
};

interface AlarmMessage {
  alarmId: string;
  state: string;
  ts: number;
}

const T0 = Date.now() - 3_600_000;
const tsOf = (seq: number) => T0 + seq * 1_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function publishReadings(client: MqttClient, deviceId: string, seqs: readonly number[], temperature: (seq: number) => number): Promise<void> {
  for (const seq of seqs) {
    // publishAsync at QoS 1 resolves on the PUBACK: the reading is acknowledged.
    await client.publishAsync(
      telemetryTopic(deviceId),
      JSON.stringify({ ts: tsOf(seq), seq, type: 'env-sensor', metrics: { temperature: temperature(seq) } }),
      { qos: 1 },
    );
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('power loss: store.db rolled back while stream.db keeps later checkpoints', () => {
  it('replays what the store lost on restart: every acknowledged reading stored once, no alarm transition repeated', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ft-power-loss-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const storeFile = join(dataDir, 'store.db');
    const snapshot = join(dataDir, 'store-snapshot.db');
    const fleet = range(1, 8).map((i) => `meter-${i}`);
    const acknowledged = new Map<string, number[]>();
    const received: AlarmMessage[] = [];

    const run = async (): Promise<{ stack: TestStack; devices: Map<string, MqttClient> }> => {
      const stack = await startTestStack(THRESHOLDS, { dataDir });
      cleanups.push(() => stack.close());
      const operator = await stack.connect('ops', { role: 'operator' });
      await operator.subscribeAsync('alarms/fleet/+', { qos: 1 });
      operator.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString('utf8')) as AlarmMessage));
      const devices = new Map<string, MqttClient>();
      for (const id of [...fleet, 'boiler-hot', 'boiler-warm']) devices.set(id, await stack.connect(id, { type: 'env-sensor' }));
      return { stack, devices };
    };
    const publishPhase = async (devices: Map<string, MqttClient>, seqs: readonly number[]) => {
      await Promise.all(
        fleet.map(async (id) => {
          await publishReadings(devices.get(id)!, id, seqs, () => 20);
          acknowledged.set(id, [...(acknowledged.get(id) ?? []), ...seqs]);
        }),
      );
    };

    // Run 1, up to the snapshot: boiler-hot raises overheat (3 samples above 80).
    let { stack, devices } = await run();
    await publishPhase(devices, range(1, 40));
    await publishReadings(devices.get('boiler-hot')!, 'boiler-hot', [1, 2, 3], () => 90);
    await eventually(() => (received.some((a) => a.alarmId === 'boiler-hot/overheat') ? true : undefined), 10_000, 'the overheat raise');
    await stack.stack.whenIdle({ timeoutMs: 10_000 });
    // The raise's outbox is cleared, so the copy holds no transition still to publish.
    await eventually(
      () => (outboxesEmpty(storeFile) ? true : undefined),
      10_000,
      'the alarm outbox to be cleared',
    );
    const source = new Database(storeFile, { readonly: true });
    await source.backup(snapshot);
    source.close();

    // After the snapshot: more readings, and boiler-warm 2 of the 3 samples that raise overheat
    // (state that decides no transition yet, and that the rollback takes away).
    await publishPhase(devices, range(41, 80));
    await publishReadings(devices.get('boiler-warm')!, 'boiler-warm', [1, 2], () => 85);
    await stack.stack.whenIdle({ timeoutMs: 10_000 });
    await stack.close();
    cleanups.pop();

    // The power cut: store.db loses every commit after the snapshot; stream.db keeps its checkpoints.
    copyFileSync(snapshot, storeFile);
    rmSync(`${storeFile}-wal`, { force: true });
    rmSync(`${storeFile}-shm`, { force: true });

    ({ stack, devices } = await run());
    await stack.stack.whenIdle({ timeoutMs: 15_000 });
    // boiler-warm's third sample above 80 raises; boiler-hot's sample below 75 clears.
    await publishReadings(devices.get('boiler-warm')!, 'boiler-warm', [3], () => 86);
    await publishReadings(devices.get('boiler-hot')!, 'boiler-hot', [4], () => 60);
    await stack.stack.whenIdle({ timeoutMs: 10_000 });
    // Not an assertion of its own: the comparisons below say what is missing or repeated.
    await eventually(() => (received.length >= 3 ? true : undefined), 5_000, 'three alarm events in all').catch(() => undefined);

    const store = stack.stack.store;
    for (const id of fleet) {
      const seqs = store.queryReadings({ deviceId: id, order: 'asc', limit: 1_000 }).map((r) => r.seq);
      expect(seqs, `readings of ${id}`).toEqual(acknowledged.get(id));
    }
    const transitions = (events: readonly AlarmMessage[]) => events.map((a) => `${a.alarmId} ${a.state} ${a.ts}`).sort();
    expect(transitions(received)).toEqual(
      [`boiler-hot/overheat ALARM ${tsOf(3)}`, `boiler-hot/overheat OK ${tsOf(4)}`, `boiler-warm/overheat ALARM ${tsOf(3)}`].sort(),
    );
    expect(transitions(store.queryTransitions({}))).toEqual(transitions(received));
  }, 60_000);
});

describe('a reading with seq and without ts', () => {
  it('is stored once when the device sends it again after a lost PUBACK (a new receive time)', async () => {
    const test = await startTestStack(THRESHOLDS);
    cleanups.push(() => test.close());
    const device = await test.connect('meter-untimed', { type: 'env-sensor' });
    const payload = JSON.stringify({ seq: 41, type: 'env-sensor', metrics: { temperature: 20.5 } });

    await device.publishAsync(telemetryTopic('meter-untimed'), payload, { qos: 1 });
    await eventually(() => (test.stack.store.countReadings({ deviceId: 'meter-untimed' }) === 1 ? true : undefined), 10_000, 'the first copy stored');
    // The resend a client makes when it did not see the PUBACK: the same bytes, received later.
    await device.publishAsync(telemetryTopic('meter-untimed'), payload, { qos: 1 });
    await test.stack.whenIdle({ timeoutMs: 10_000 });

    expect(test.stack.store.queryReadings({ deviceId: 'meter-untimed' }).map((r) => r.seq)).toEqual([41]);
  });
});

function outboxesEmpty(storeFile: string): boolean {
  const db = new Database(storeFile, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) FROM alarm_state WHERE outbox <> '[]'").pluck().get() as number) === 0;
  } finally {
    db.close();
  }
}
