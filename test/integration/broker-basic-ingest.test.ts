/**
 * Basic Ingest on the local broker, with the semantics of AWS IoT Core: a device may publish its
 * own telemetry on `$aws/rules/fleet_telemetry_to_stream/dt/fleet/<its id>/telemetry`; the rule sees
 * the topic without the prefix (so `topic(3)` is still the deviceId); nobody receives it as a
 * subscriber; another device's id or another rule is refused. Then the same through the whole local
 * stack: a reading published through Basic Ingest is stored under its device.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { PublishPacket } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../lambdas/ports/observability.js';
import { alarmTopic, basicIngestTelemetryTopic, pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { createBroker } from '../../infra/local/broker/index.js';
import type { Broker } from '../../infra/local/broker/index.js';
import type { RuleMessage } from '../../infra/local/iot-sql/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { eventually, startTestStack } from '../helpers/local-stack.js';

describe('Basic Ingest on the local broker', () => {
  let dir: string;
  let registry: DeviceRegistry;
  let broker: Broker;
  let url: string;
  let received: RuleMessage[];
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'basic-ingest-'));
    registry = DeviceRegistry.open(join(dir, 'devices.db'));
    received = [];
    broker = createBroker({ registry, log: silentLog, onTelemetry: (message) => void received.push(message) });
    const { mqttPort } = await broker.listen({ host: '127.0.0.1', mqttPort: 0 });
    url = `mqtt://127.0.0.1:${mqttPort}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connectAs = async (deviceId: string, role: 'device' | 'operator' = 'device'): Promise<MqttClient> => {
    const { username, password } = registry.add(deviceId, { role });
    const client = await mqtt.connectAsync(url, { clientId: deviceId, username, password, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(client);
    return client;
  };

  /** Publishes at QoS 1 and says whether a PUBACK came or the broker closed the connection instead. */
  const publishOutcome = (client: MqttClient, topic: string): Promise<'acked' | 'closed'> =>
    new Promise((resolve) => {
      client.once('close', () => resolve('closed'));
      client.publish(topic, '{"metrics":{"t":1}}', { qos: 1 }, (error) => {
        if (!error) resolve('acked');
      });
    });

  it('names the pipeline rule and the device in the topic, as AWS expects it', () => {
    expect(pipeline.topics.basicIngestTelemetry).toBe('$aws/rules/fleet_telemetry_to_stream/dt/fleet/{deviceId}/telemetry');
    expect(basicIngestTelemetryTopic('d1')).toBe('$aws/rules/fleet_telemetry_to_stream/dt/fleet/d1/telemetry');
  });

  it('acknowledges a device publishing its own telemetry through Basic Ingest and hands the rule the topic without the prefix', async () => {
    const client = await connectAs('d1');
    await client.publishAsync(basicIngestTelemetryTopic('d1'), '{"metrics":{"t":1}}', { qos: 1 });
    await client.publishAsync(telemetryTopic('d1'), '{"metrics":{"t":2}}', { qos: 1 });

    expect(received.map((m) => [m.topic, m.payload.toString()])).toEqual([
      ['dt/fleet/d1/telemetry', '{"metrics":{"t":1}}'],
      ['dt/fleet/d1/telemetry', '{"metrics":{"t":2}}'],
    ]);
    expect(broker.stats()).toMatchObject({ messagesAccepted: 2, publishesRefused: 0 });
  });

  it("refuses Basic Ingest on another device's topic, without handing it to the rule", async () => {
    const client = await connectAs('d1');
    registry.add('d2');

    expect(await publishOutcome(client, basicIngestTelemetryTopic('d2'))).toBe('closed');
    expect(received).toEqual([]);
    expect(broker.stats().publishesRefused).toBe(1);
  });

  it('refuses Basic Ingest naming another rule, even with the device\'s own telemetry topic after it', async () => {
    const client = await connectAs('d1');

    expect(await publishOutcome(client, `$aws/rules/some_other_rule/${telemetryTopic('d1')}`)).toBe('closed');
    expect(received).toEqual([]);
  });

  it('refuses an operator publishing through Basic Ingest', async () => {
    const operator = await connectAs('ops', 'operator');

    expect(await publishOutcome(operator, '$aws/rules/some_other_rule/anything')).toBe('closed');
    expect(received).toEqual([]);
  });

  it('lets nobody subscribe to Basic Ingest topics', async () => {
    const device = await connectAs('d1');
    const operator = await connectAs('ops', 'operator');
    const granted = async (client: MqttClient, filter: string) =>
      new Promise<number[]>((resolve) => client.subscribe(filter, { qos: 1 }, (_e, _g, packet) => resolve((packet?.granted ?? []) as number[])));

    expect(await granted(device, basicIngestTelemetryTopic('d1'))).toEqual([0x80]);
    expect(await granted(operator, '$aws/rules/#')).toEqual([0x80]);
  });

  it('forwards no Basic Ingest message to a subscriber, and forwards the others unchanged', () => {
    const packet = (topic: string): PublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 1, retain: false, dup: false });
    const forward = broker.aedes.authorizeForward.bind(broker.aedes) as (client: unknown, p: PublishPacket) => PublishPacket | null;
    const alarm = packet(alarmTopic('d1'));

    expect(forward(undefined, packet(basicIngestTelemetryTopic('d1')))).toBeNull();
    expect(forward(undefined, packet('$aws/rules/some_other_rule/x'))).toBeNull();
    expect(forward(undefined, alarm)).toBe(alarm);
  });
});

describe('Basic Ingest through the local stack', () => {
  it('stores a reading published through Basic Ingest under the device the topic names', { timeout: 30_000 }, async () => {
    const t = await startTestStack({ rules: [] });
    try {
      const client = await t.connect('bi-0001', { type: 'env-sensor' });
      await client.publishAsync(basicIngestTelemetryTopic('bi-0001'), JSON.stringify({ seq: 7, metrics: { temperature: 21.5 } }), { qos: 1 });

      const rows = await eventually(() => {
        const found = t.stack.store.queryReadings({ deviceId: 'bi-0001' });
        return found.length > 0 ? found : undefined;
      }, 10_000, 'the Basic Ingest reading in the store');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ deviceId: 'bi-0001', seq: 7 });
    } finally {
      await t.close();
    }
  });
});
