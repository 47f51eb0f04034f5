/**
 * The migration path of docs/migrating-from-iot-events.md end to end: alarm models converted by the
 * real command line, the file loaded the way `npm start --thresholds` loads it, and devices publishing
 * over MQTT what they used to send with BatchPutMessage; an operator sees the alarms raised, latched,
 * acknowledged and cleared on `alarms/fleet/+` as IoT Events would have moved them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { sendAlarmCommand } from '../../infra/local/cli/alarm-command-client.js';
import { collect, eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = 'test/fixtures/iot-events';

function convert(out: string): Promise<number> {
  const args = ['--import', 'tsx', 'infra/cli/import-iot-events.ts', `${FIXTURES}/boiler-overheat.json`, `${FIXTURES}/cold-room-too-warm.json`, '--out', out];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 20_000 }, (error) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve(error ? (error.code as number) : 0);
    });
  });
}

/** Ten minutes ago: readings may be at most 15 minutes ahead of the broker's receive time. */
let now = Math.floor(Date.now() / 1000) * 1000 - 600_000;
const clock = { now: () => now };

describe('IoT Events alarm models migrated to the local stack', () => {
  let dir: string;
  let t: TestStack;
  let operator: MqttClient;
  let events: ReturnType<typeof collect<AlarmEvent>>;
  const devices = new Map<string, MqttClient>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iot-events-e2e-'));
    const out = join(dir, 'thresholds.json');
    expect(await convert(out)).toBe(0);
    // What `npm start --thresholds FILE` does with it first.
    expect(loadThresholdsFile(out).rules.map((rule) => [rule.id, rule.kind])).toEqual([
      ['boiler-overheat', 'above'],
      ['cold-room-too-warm', 'atOrAbove'],
    ]);
    t = await startTestStack(JSON.parse(readFileSync(out, 'utf8')), { clock, offlineCheckIntervalMs: 3_600_000, commandRetryDelaysMs: [50, 50] });
    operator = await t.connect('ops-1', { role: 'operator' });
    await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
    events = collect<AlarmEvent>(operator);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What a BatchPutMessage used to carry, published by the device itself with its time as `ts`. */
  const publish = async (deviceId: string, metrics: Record<string, number>): Promise<void> => {
    let device = devices.get(deviceId);
    if (device === undefined) {
      device = await t.connect(deviceId);
      devices.set(deviceId, device);
    }
    now += 1_000;
    await device.publishAsync(telemetryTopic(deviceId), JSON.stringify({ ts: now, metrics }), { qos: 1 });
  };
  const transitionsOf = (alarmId: string): string[] =>
    events.messages.filter((event) => event.alarmId === alarmId).map((event) => `${event.previousState}->${event.state}`);
  const waitForTransitions = (alarmId: string, count: number): Promise<string[]> =>
    eventually(() => (transitionsOf(alarmId).length >= count ? transitionsOf(alarmId) : undefined), 10_000, `${count} events of ${alarmId} (have ${JSON.stringify(transitionsOf(alarmId))})`);

  it('raises boiler-overheat above 80 at its mapped severity, latches it when the boiler cools, and clears it when acknowledged', async () => {
    await publish('b-7', { temperature: 82.5 });
    await waitForTransitions('b-7/boiler-overheat', 1);
    expect(events.messages.find((event) => event.alarmId === 'b-7/boiler-overheat')).toMatchObject({ state: 'ALARM', severity: 'critical', value: 82.5, threshold: 80 });

    await publish('b-7', { temperature: 79 });
    await waitForTransitions('b-7/boiler-overheat', 2);

    now += 1_000;
    const reply = await sendAlarmCommand(operator, 'b-7', { action: 'acknowledge', ruleId: 'boiler-overheat', note: 'burner serviced' }, { timeoutMs: 10_000 });
    expect(reply.outcome).toBe('accepted');
    expect(await waitForTransitions('b-7/boiler-overheat', 3)).toEqual(['OK->ALARM', 'ALARM->LATCHED', 'LATCHED->OK']);
  });

  it('raises cold-room-too-warm when the temperature reaches the limit sent in the same reading, and clears it by itself', async () => {
    await publish('cr-1', { temperature: 4, maxTemperature: 5 });
    await publish('cr-1', { temperature: 5, maxTemperature: 5 });
    await waitForTransitions('cr-1/cold-room-too-warm', 1);
    await publish('cr-1', { temperature: 5, maxTemperature: 8 });

    expect(await waitForTransitions('cr-1/cold-room-too-warm', 2)).toEqual(['OK->ALARM', 'ALARM->OK']);
    expect(transitionsOf('cr-1/boiler-overheat')).toEqual([]);
  });
});
