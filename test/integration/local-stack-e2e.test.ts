/**
 * The whole local pipeline with real parts: MQTT.js clients over 127.0.0.1, aedes with the registry
 * and ACL, the IoT rule, the durable stream, both event source mappings, the handlers, SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { alarmTopic, pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { collect, eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';

const METRIC_RULES = [
  { id: 'overheat', metric: 'temperature', match: { type: 'env-sensor' }, when: { above: 80 }, clear: { below: 75 }, for: { samples: 3 }, severity: 'critical' },
  { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' },
];
const THRESHOLDS = { rules: METRIC_RULES };
const WITH_SILENCE = { rules: [...METRIC_RULES, { id: 'silent', when: { silentFor: { seconds: 1 } }, severity: 'major' }] };

const transition = (event: AlarmEvent) => `${event.alarmId} ${event.previousState}->${event.state}`;

describe('the local stack, end to end', () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('stores every acknowledged reading and tells an operator exactly the expected transitions', async () => {
    t = await startTestStack(THRESHOLDS, { offlineCheckIntervalMs: 100 });
    const operator = await t.connect('ops', { role: 'operator' });
    await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
    const alarms = collect<AlarmEvent>(operator);
    const device = await t.connect('sensor-0001', { type: 'env-sensor' });

    // Debounce (3 samples above 80) and hysteresis (clears only below 75), then a battery dip.
    const t0 = Date.now() - 60_000;
    const series: [number, number][] = [[70, 3.6], [81, 3.6], [82, 3.6], [83, 3.6], [78, 3.6], [74, 3.6], [74, 3.2], [74, 3.4], [74, 3.6]];
    for (const [seq, [temperature, battery]] of series.entries()) {
      await device.publishAsync(
        telemetryTopic('sensor-0001'),
        JSON.stringify({ ts: t0 + seq * 1000, seq, type: 'env-sensor', metrics: { temperature, battery } }),
        { qos: 1 },
      );
    }

    await alarms.until(4);
    expect(alarms.messages.map(transition)).toEqual([
      'sensor-0001/overheat OK->ALARM',
      'sensor-0001/overheat ALARM->OK',
      'sensor-0001/battery-low OK->ALARM',
      'sensor-0001/battery-low ALARM->OK',
    ]);
    expect(alarms.messages[0]).toMatchObject({ deviceId: 'sensor-0001', ruleId: 'overheat', metric: 'temperature', severity: 'critical', value: 83, threshold: 80, ts: t0 + 3000 });
    await t.stack.whenIdle();
    const rows = t.stack.store.queryReadings({ deviceId: 'sensor-0001', order: 'asc' });
    expect(rows.map((row) => row.seq)).toEqual(series.map((_, seq) => seq));
    expect(rows[3]).toEqual({ deviceId: 'sensor-0001', ts: t0 + 3000, seq: 3, type: 'env-sensor', metrics: { temperature: 83, battery: 3.6 } });
  });

  it('raises a silent-device alarm when a device stops, and clears it on its next reading', async () => {
    t = await startTestStack(WITH_SILENCE, { offlineCheckIntervalMs: 100 });
    const operator = await t.connect('ops', { role: 'operator' });
    await operator.subscribeAsync(alarmTopic('quiet-1'), { qos: 1 });
    const alarms = collect<AlarmEvent>(operator);
    const device = await t.connect('quiet-1', { type: 'env-sensor' });

    // Its last reading two minutes old: silent for longer than the 1 s window plus the 60 s by which
    // the stored lastSeen may trail the newest reading (docs/architecture.md, "Alarm state").
    await device.publishAsync(telemetryTopic('quiet-1'), JSON.stringify({ ts: Date.now() - 120_000, seq: 1, metrics: { temperature: 20 } }), { qos: 1 });
    const [raised] = await alarms.until(1, 10_000);
    expect(raised).toMatchObject({ alarmId: 'quiet-1/silent', state: 'ALARM', previousState: 'OK', metric: null, severity: 'major', threshold: 1 });

    await device.publishAsync(telemetryTopic('quiet-1'), JSON.stringify({ seq: 2, metrics: { temperature: 20 } }), { qos: 1 });
    const [, cleared] = await alarms.until(2);
    expect(cleared).toMatchObject({ alarmId: 'quiet-1/silent', state: 'OK', previousState: 'ALARM', value: null });
  });

  it('never repeats a transition while the offline check and the alarms consumer race for one device', async () => {
    t = await startTestStack(WITH_SILENCE, { offlineCheckIntervalMs: 20 });
    const operator = await t.connect('ops', { role: 'operator' });
    await operator.subscribeAsync(alarmTopic('racer-1'), { qos: 1 });
    const alarms = collect<AlarmEvent>(operator);
    const device = await t.connect('racer-1', { type: 'env-sensor' });

    // Readings an hour old: every reading clears the silent alarm, every offline check raises it again.
    const t0 = Date.now() - 3_600_000;
    for (let seq = 0; seq < 40; seq++) {
      await device.publishAsync(telemetryTopic('racer-1'), JSON.stringify({ ts: t0 + seq * 1000, seq, type: 'env-sensor', metrics: { temperature: seq % 8 < 4 ? 90 : 60 } }), { qos: 1 });
      // Spaced out on purpose, so offline checks (every 20 ms) fall between readings: the race under test.
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.stack.whenIdle();
    // The offline check keeps running: wait until the operator has every transition the store recorded.
    const recorded = await eventually(() => {
      const rows = t!.stack.store.queryTransitions({ deviceId: 'racer-1', order: 'asc' });
      return rows.length > 0 && rows.length === alarms.messages.length ? rows : undefined;
    }, 10_000, 'the operator to receive every recorded transition of racer-1');

    const seen = new Set<string>();
    const byAlarm = new Map<string, string[]>();
    for (const event of alarms.messages) {
      const key = `${event.alarmId} ${event.ts} ${event.state}`;
      expect(seen.has(key), `published twice: ${key}`).toBe(false);
      seen.add(key);
      byAlarm.set(event.alarmId, [...(byAlarm.get(event.alarmId) ?? []), event.state]);
    }
    expect(byAlarm.get('racer-1/overheat')?.length).toBeGreaterThan(4);
    for (const [alarmId, states] of byAlarm) {
      states.forEach((state, i) => expect(state, `${alarmId} transition ${i}`).toBe(i % 2 === 0 ? 'ALARM' : 'OK'));
    }
    expect(recorded).toHaveLength(alarms.messages.length);
  });

  it('keeps a malformed message with its reason and still stores the rest of its batch', async () => {
    t = await startTestStack(THRESHOLDS);
    const device = await t.connect('sensor-0002', { type: 'env-sensor' });
    const topic = telemetryTopic('sensor-0002');
    const ts = Date.now() - 10_000;

    await device.publishAsync(topic, JSON.stringify({ ts, seq: 1, metrics: { temperature: 21 } }), { qos: 1 });
    await device.publishAsync(topic, JSON.stringify({ ts: ts + 1, seq: 2, metrics: { temperature: 'hot' } }), { qos: 1 });
    await device.publishAsync(topic, 'not json at all', { qos: 1 });
    await device.publishAsync(topic, JSON.stringify({ ts: ts + 3, seq: 4, metrics: { temperature: 23 } }), { qos: 1 });

    const rejects = await eventually(() => {
      const rows = t!.stack.store.queryRejects({ deviceId: 'sensor-0002', order: 'asc' });
      return rows.length === 2 ? rows : undefined;
    }, 10_000, 'two rejects');
    expect(rejects.map((row) => row.reason)).toEqual(['metrics.temperature: not a finite number', expect.stringMatching(/^payload: /)]);
    expect(rejects[1]).toMatchObject({ stage: 'decode', topic, payload: 'not json at all', payloadEncoding: 'utf8' });
    await t.stack.whenIdle();
    expect(t.stack.store.queryReadings({ deviceId: 'sensor-0002', order: 'asc' }).map((row) => row.seq)).toEqual([1, 4]);
  });

  it('resumes where it stopped: a second start on the same data stores each reading once', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'ft-resume-'));
    try {
      t = await startTestStack(THRESHOLDS, { dataDir });
      const first = await t.connect('sensor-0003', { type: 'env-sensor' });
      for (let seq = 0; seq < 20; seq++) {
        await first.publishAsync(telemetryTopic('sensor-0003'), JSON.stringify({ seq, metrics: { temperature: 20 + seq } }), { qos: 1 });
      }
      await t.close();

      t = await startTestStack(THRESHOLDS, { dataDir });
      const second = await t.connect('sensor-0003', { type: 'env-sensor' });
      for (let seq = 20; seq < 30; seq++) {
        await second.publishAsync(telemetryTopic('sensor-0003'), JSON.stringify({ seq, metrics: { temperature: 20 } }), { qos: 1 });
      }
      await t.stack.whenIdle();
      const seqs = t.stack.store.queryReadings({ deviceId: 'sensor-0003', order: 'asc' }).map((row) => row.seq);
      expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i));
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
