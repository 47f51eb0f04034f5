/**
 * Issue 14, locally: the running stack watches its thresholds file (real files, the real broker, the
 * consumers in their worker thread). A valid change is in force within 5 seconds and logged with the
 * rules added, changed and removed; an invalid one is refused with the rule and field named while the
 * running rules stay; a removed rule's alarm state is dropped, a changed rule's kept.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import type { AboveRule } from '../../lambdas/domain/thresholds.js';
import type { Log } from '../../lambdas/ports/observability.js';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { collect, eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';

const overheat = (above: number) => ({ id: 'overheat', metric: 'temperature', when: { above }, severity: 'critical' });
const batteryLow = (below: number) => ({ id: 'battery-low', metric: 'battery', when: { below }, severity: 'warning' });
const humid = { id: 'humid', metric: 'humidity', when: { above: 90 }, severity: 'minor' };

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly extra: Record<string, unknown> | undefined;
}

/** A log that keeps every line, so a test can wait for one. */
function recordingLog(): { log: Log; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, extra });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('thresholds file changes on the running local stack', () => {
  let dir: string;
  let file: string;
  let t: TestStack | undefined;
  let lines: LogLine[];

  /** Writes the rules as an editor saves: a new file renamed over the old one. */
  const save = (rules: unknown[]) => {
    const temp = join(dir, '.thresholds.json.tmp');
    writeFileSync(temp, JSON.stringify({ rules }, null, 2));
    renameSync(temp, file);
  };

  const start = async (rules: unknown[], options: { httpPort?: number; consumers?: 'worker' | 'in-process' } = {}) => {
    writeFileSync(file, JSON.stringify({ rules }, null, 2));
    const recording = recordingLog();
    lines = recording.lines;
    t = await startTestStack({ rules }, { thresholdsFile: file, log: recording.log, ...options });
    const operator = await t.connect('ops', { role: 'operator' });
    await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
    return { alarms: collect<AlarmEvent>(operator), device: await t.connect('sensor-1', { type: 'env-sensor' }) };
  };

  const publish = (device: MqttClient, seq: number, metrics: Record<string, number>) =>
    device.publishAsync(telemetryTopic('sensor-1'), JSON.stringify({ ts: Date.now() - 60_000 + seq, seq, type: 'env-sensor', metrics }), { qos: 1 });

  const logged = (message: string, what: string) => eventually(() => lines.find((line) => line.message === message), 5_000, what);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ft-reload-'));
    file = join(dir, 'thresholds.json');
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['worker', 'in-process'] as const)('puts a changed bound in force within 5 seconds: the next reading raises against it (consumers: %s)', async (consumers) => {
    const { alarms, device } = await start([overheat(90)], { consumers });
    await publish(device, 1, { temperature: 85 });
    await t!.stack.whenIdle();
    expect(alarms.messages).toEqual([]);

    save([overheat(80)]);
    const savedAt = Date.now();
    // The consumers take the rules before the stack's own view does: once it shows them, they are in force.
    const boundInForce = () => (t!.stack.thresholds().rules[0] as AboveRule).when.above;
    await eventually(() => (boundInForce() === 80 ? true : undefined), 5_000, 'the new bound to be in force');
    expect(Date.now() - savedAt).toBeLessThan(5_000);
    await publish(device, 2, { temperature: 85 });

    const [raised] = await alarms.until(1);
    expect(raised).toMatchObject({ alarmId: 'sensor-1/overheat', state: 'ALARM', threshold: 80, value: 85 });
    expect((await logged('thresholds reloaded', 'the reload log line')).extra).toEqual({ file, added: [], changed: ['overheat'], removed: [] });
  });

  it('refuses an invalid file naming the rule and field, and the rule in force still raises', async () => {
    const { alarms, device } = await start([overheat(80)]);

    save([{ ...overheat(70), clear: { below: 75 } }]);
    const refusal = await logged('thresholds file refused; the rules in force stay', 'the refusal log line');

    expect(refusal.level).toBe('warn');
    expect(refusal.extra).toEqual({ file, reason: `thresholds file ${file}: rule "overheat": clear.below must be at or below when.above (70)` });
    await publish(device, 1, { temperature: 75 });
    await publish(device, 2, { temperature: 85 });
    const [raised] = await alarms.until(1);
    expect(raised).toMatchObject({ alarmId: 'sensor-1/overheat', state: 'ALARM', threshold: 80, value: 85 });
    expect(lines.some((line) => line.message === 'thresholds reloaded')).toBe(false);
  });

  it("drops a removed rule's alarm state, keeps a changed rule's, and logs the rules added, changed and removed", async () => {
    const { alarms, device } = await start([overheat(80), batteryLow(3.3)], { httpPort: 0 });
    const consoleAlarms = async () => {
      const res = await fetch(`http://127.0.0.1:${t!.stack.httpPort}/api/alarms`, { headers: { authorization: `Bearer ${t!.stack.consoleToken}` } });
      return ((await res.json()) as { active: { alarmId: string }[] }).active.map((a) => a.alarmId).sort();
    };
    await publish(device, 1, { temperature: 85, battery: 3.0 });
    await alarms.until(2);
    // Read from the file, as the consumers' worker wrote it (the stack's own connection caches states).
    const storedRules = () => {
      const db = new Database(join(t!.stack.dataDir, 'store.db'), { readonly: true });
      try {
        const row = db.prepare('SELECT state FROM alarm_state WHERE device_id = ?').get('sensor-1') as { state: string };
        return (JSON.parse(row.state) as { rules: { rule: string; status: string }[] }).rules.map((r) => `${r.rule} ${r.status}`);
      } finally {
        db.close();
      }
    };
    expect(storedRules()).toEqual(['overheat ALARM', 'battery-low ALARM']);
    expect(await consoleAlarms()).toEqual(['sensor-1/battery-low', 'sensor-1/overheat']);

    save([batteryLow(3.2), humid]);
    const reloaded = await logged('thresholds reloaded', 'the reload log line');
    expect(reloaded.extra).toEqual({ file, added: ['humid'], changed: ['battery-low'], removed: ['overheat'] });

    await publish(device, 2, { temperature: 85, battery: 3.0, humidity: 50 });
    await t!.stack.whenIdle();
    // battery-low is still in breach and kept its ALARM: no second raise; overheat is gone, and nothing cleared it.
    expect(storedRules()).toEqual(['battery-low ALARM']);
    expect(alarms.messages.map((e) => `${e.alarmId} ${e.state}`)).toEqual(['sensor-1/overheat ALARM', 'sensor-1/battery-low ALARM']);
    const listed = await t!.stack.store.alarmReader(t!.stack.thresholds()).listAlarms({ deviceId: 'sensor-1' });
    expect(listed.map((a) => a.alarmId)).toEqual(['sensor-1/battery-low']);
    // The console lists the alarms of the rules in force: overheat's last transition is still stored.
    expect(await consoleAlarms()).toEqual(['sensor-1/battery-low']);
  });
});
