/**
 * An independent MQTT client: Debian's mosquitto_pub (installed by .ci/run) publishes to the local
 * stack, so we are not only tested by the client library we also build the simulator on.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../infra/pipeline.js';
import { eventually, startTestStack, type TestStack } from '../helpers/local-stack.js';

const run = promisify(execFile);
const THRESHOLDS = { rules: [{ id: 'battery-low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' }] };

describe('interoperability with mosquitto_pub', () => {
  let t: TestStack | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const publish = (port: number, deviceId: string, password: string, topic: string, message: string) =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-q', '1', '-i', deviceId, '-u', deviceId, '-P', password, '-t', topic, '-m', message]);

  it('stores a reading that mosquitto_pub publishes with QoS 1', async () => {
    t = await startTestStack(THRESHOLDS);
    const { password } = t.stack.registry.add('mosq-1', { type: 'env-sensor' });

    await publish(t.stack.mqttPort, 'mosq-1', password, telemetryTopic('mosq-1'), JSON.stringify({ ts: 1_764_028_800_123, seq: 7, metrics: { temperature: 22.4, battery: 3.61 } }));

    const rows = await eventually(() => {
      const found = t!.stack.store.queryReadings({ deviceId: 'mosq-1' });
      return found.length > 0 ? found : undefined;
    }, 10_000, 'the reading');
    expect(rows).toEqual([{ deviceId: 'mosq-1', ts: 1_764_028_800_123, seq: 7, type: null, metrics: { temperature: 22.4, battery: 3.61 } }]);
  });

  it('refuses mosquitto_pub with a wrong password, and stores nothing', async () => {
    t = await startTestStack(THRESHOLDS);
    t.stack.registry.add('mosq-2');

    await expect(publish(t.stack.mqttPort, 'mosq-2', 'not-the-password', telemetryTopic('mosq-2'), '{"metrics":{"x":1}}')).rejects.toThrow();
    await t.stack.whenIdle();
    expect(t.stack.store.countReadings({ deviceId: 'mosq-2' })).toBe(0);
  });

  it("closes the connection of a device that publishes on another device's topic, and stores nothing", async () => {
    t = await startTestStack(THRESHOLDS);
    const { password } = t.stack.registry.add('mosq-3');
    t.stack.registry.add('victim');

    await publish(t.stack.mqttPort, 'mosq-3', password, telemetryTopic('victim'), '{"metrics":{"x":1}}').catch(() => undefined);
    await t.stack.whenIdle();
    expect(t.stack.store.countReadings({ deviceId: 'victim' })).toBe(0);
    expect(t.stack.store.countReadings({})).toBe(0);
  });
});
