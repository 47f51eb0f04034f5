import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../lambdas/ports/observability.js';
import { alarmTopic, commandReplyTopic, commandTopic, telemetryTopic } from '../../infra/pipeline.js';
import { CONNACK, createBroker } from '../../infra/local/broker/index.js';
import type { Broker, BrokerOptions } from '../../infra/local/broker/index.js';
import type { RuleMessage } from '../../infra/local/iot-sql/index.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { until } from '../helpers/wait.js';

type OnTelemetry = BrokerOptions['onTelemetry'];

describe('local MQTT broker', () => {
  let dir: string;
  let registry: DeviceRegistry;
  let broker: Broker;
  let mqttPort: number;
  let wsPort: number;
  let received: RuleMessage[];
  /** What the test wants onTelemetry to do; by default records the message and accepts it. */
  let onTelemetry: OnTelemetry;
  const clients: MqttClient[] = [];
  const extraRegistries: DeviceRegistry[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broker-'));
    registry = DeviceRegistry.open(join(dir, 'devices.db'));
    received = [];
    onTelemetry = () => undefined;
    broker = createBroker({
      registry,
      log: silentLog,
      registryPollMs: 100,
      onTelemetry: (message) => {
        received.push(message);
        return onTelemetry(message);
      },
    });
    const ports = await broker.listen({ host: '127.0.0.1', mqttPort: 0, wsPort: 0 });
    mqttPort = ports.mqttPort;
    wsPort = ports.wsPort as number;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await broker.close();
    registry.close();
    for (const other of extraRegistries.splice(0)) other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async (clientId: string, options: Partial<IClientOptions> = {}, url = `mqtt://127.0.0.1:${mqttPort}`) => {
    const client = mqtt.connect(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return client;
  };

  /** Registers a device (or operator) and connects it with its own credentials. */
  const connectAs = (deviceId: string, role: 'device' | 'operator' = 'device', options: Partial<IClientOptions> = {}) => {
    const { username, password } = registry.add(deviceId, { role });
    return connect(deviceId, { username, password, ...options });
  };

  const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));

  /** The SUBACK return codes, one per filter (MQTT.js rejects when any is 0x80, with the packet attached). */
  const subscribeGranted = (client: MqttClient, filters: string[]) =>
    new Promise<number[]>((resolve) => {
      client.subscribe(filters, { qos: 1 }, (_error, _grants, packet) => {
        resolve((packet?.granted ?? []) as number[]);
      });
    });

  const waitFor = (condition: () => boolean, what: string) => until(condition, 5_000, what);

  describe('telemetry and PUBACK', () => {
    it('hands a QoS 1 message to onTelemetry with its fields, and sends PUBACK only after onTelemetry resolves', async () => {
      const events: string[] = [];
      onTelemetry = async () => {
        events.push('onTelemetry called');
        await delay(150);
        events.push('append committed');
      };
      const client = await connectAs('d1');
      const before = Date.now();

      await client.publishAsync(telemetryTopic('d1'), '{"metrics":{"t":1}}', { qos: 1 });
      events.push('PUBACK received');

      expect(events).toEqual(['onTelemetry called', 'append committed', 'PUBACK received']);
      expect(received).toEqual([
        { topic: 'dt/fleet/d1/telemetry', payload: Buffer.from('{"metrics":{"t":1}}'), clientId: 'd1', timestamp: expect.any(Number) },
      ]);
      expect(received[0]?.timestamp).toBeGreaterThanOrEqual(before);
      expect(received[0]?.timestamp).toBeLessThanOrEqual(Date.now());
      expect(broker.stats()).toMatchObject({ messagesAccepted: 1, connected: 1, connectsAccepted: 1 });
    });

    it('sends QoS 0 telemetry through onTelemetry too', async () => {
      const client = await connectAs('d1');

      await client.publishAsync(telemetryTopic('d1'), 'zero', { qos: 0 });
      await waitFor(() => received.length === 1, 'the QoS 0 message');

      expect(received).toMatchObject([{ payload: Buffer.from('zero'), clientId: 'd1' }]);
    });

    it('closes the connection without PUBACK when onTelemetry fails, and accepts the resend after the client reconnects', async () => {
      let attempts = 0;
      onTelemetry = () => {
        attempts += 1;
        return attempts === 1 ? Promise.reject(new Error('stream append failed')) : Promise.resolve();
      };
      const client = await connectAs('d1', 'device', { reconnectPeriod: 100 });
      let disconnects = 0;
      client.on('close', () => (disconnects += 1));

      await client.publishAsync(telemetryTopic('d1'), 'reading-1', { qos: 1 });

      expect(disconnects).toBeGreaterThanOrEqual(1);
      expect(received.map((m) => m.payload.toString())).toEqual(['reading-1', 'reading-1']);
      expect(broker.stats()).toMatchObject({ telemetryFailures: 1, messagesAccepted: 1 });
    });

    it('closes the connection when onTelemetry throws synchronously', async () => {
      onTelemetry = () => {
        throw new Error('rule crashed');
      };
      const client = await connectAs('d1');
      const gone = closed(client);

      client.publish(telemetryTopic('d1'), 'x', { qos: 1 }, () => undefined);
      await gone;

      expect(broker.stats().telemetryFailures).toBe(1);
    });

    it('keeps arrival order for 1,000 pipelined QoS 1 publishes from one client, and acknowledges them in that order', async () => {
      // Appends that finish out of order: the broker must still call in order and PUBACK in order.
      onTelemetry = () => delay(Math.floor(Math.random() * 4));
      const client = await connectAs('d1');
      const acked: number[] = [];

      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          client.publishAsync(telemetryTopic('d1'), String(i), { qos: 1 }).then(() => {
            acked.push(i);
          }),
        ),
      );

      const expected = Array.from({ length: 1000 }, (_, i) => i);
      expect(received.map((m) => Number(m.payload.toString()))).toEqual(expected);
      expect(acked).toEqual(expected);
    });

    it('waits for a promise shared by several messages, then acknowledges all of them in arrival order', async () => {
      // The Kinesis rule action hands every message of one batch the same promise.
      let release: () => void = () => undefined;
      const shared = new Promise<void>((resolve) => (release = resolve));
      onTelemetry = () => shared;
      const client = await connectAs('d1');
      const acked: number[] = [];

      const publishes = Array.from({ length: 5 }, (_, i) =>
        client.publishAsync(telemetryTopic('d1'), String(i), { qos: 1 }).then(() => {
          acked.push(i);
        }),
      );
      await waitFor(() => received.length === 5, 'all five messages handed to onTelemetry');
      // A window in which a PUBACK sent too early would arrive: the absence of an event cannot be waited on.
      await delay(50);
      const ackedBeforeRelease = [...acked];
      release();
      await Promise.all(publishes);

      expect(ackedBeforeRelease).toEqual([]);
      expect(acked).toEqual([0, 1, 2, 3, 4]);
      expect(broker.stats().messagesAccepted).toBe(5);
    });

    it('fails every message that shares a rejected promise, closing the connection without any PUBACK', async () => {
      let fail: (error: Error) => void = () => undefined;
      const shared = new Promise<void>((_resolve, reject) => (fail = reject));
      onTelemetry = () => shared;
      const client = await connectAs('d1');
      const gone = closed(client);
      let acks = 0;

      for (let i = 0; i < 4; i++) client.publish(telemetryTopic('d1'), String(i), { qos: 1 }, (error) => void (error ? undefined : (acks += 1)));
      await waitFor(() => received.length === 4, 'all four messages handed to onTelemetry');
      fail(new Error('commit failed'));
      await gone;

      expect(acks).toBe(0);
      expect(broker.stats()).toMatchObject({ telemetryFailures: 4, messagesAccepted: 0 });
    });

    it('acknowledges messages handed a promise that had already settled for earlier ones', async () => {
      const settled = Promise.resolve();
      onTelemetry = () => settled;
      const client = await connectAs('d1');

      await client.publishAsync(telemetryTopic('d1'), 'first', { qos: 1 });
      await client.publishAsync(telemetryTopic('d1'), 'second', { qos: 1 });
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.publishAsync(telemetryTopic('d1'), `more-${i}`, { qos: 1 })));

      expect(received).toHaveLength(12);
      expect(broker.stats().messagesAccepted).toBe(12);
    });

    it('accepts a payload of exactly 128 KiB and closes the connection on one byte more, without calling onTelemetry', async () => {
      const client = await connectAs('d1');
      await client.publishAsync(telemetryTopic('d1'), Buffer.alloc(128 * 1024, 0x61), { qos: 1 });
      const gone = closed(client);

      client.publish(telemetryTopic('d1'), Buffer.alloc(128 * 1024 + 1, 0x61), { qos: 1 }, () => undefined);
      await gone;

      expect(received).toHaveLength(1);
      expect(received[0]?.payload).toHaveLength(128 * 1024);
      expect(broker.stats().publishesRefused).toBe(1);
    });

    it('refuses QoS 2, which IoT Core does not support', async () => {
      const client = await connectAs('d1');
      const gone = closed(client);

      client.publish(telemetryTopic('d1'), 'x', { qos: 2 }, () => undefined);
      await gone;

      expect(received).toEqual([]);
    });

    it('accepts retained telemetry as an ordinary message', async () => {
      const client = await connectAs('d1');

      await client.publishAsync(telemetryTopic('d1'), 'kept?', { qos: 1, retain: true });

      expect(received.map((m) => m.payload.toString())).toEqual(['kept?']);
    });

    it('works over WebSocket', async () => {
      const { password } = registry.add('ws-device');
      const client = await connect('ws-device', { username: 'ws-device', password }, `ws://127.0.0.1:${wsPort}`);

      await client.publishAsync(telemetryTopic('ws-device'), 'over ws', { qos: 1 });

      expect(received).toMatchObject([{ clientId: 'ws-device', payload: Buffer.from('over ws') }]);
    });
  });

  describe('authentication', () => {
    const refusedConnect = async (clientId: string, options: Partial<IClientOptions>) => {
      const error = await connect(clientId, options).then(
        () => undefined,
        (e: unknown) => e as { code?: number },
      );
      return error?.code;
    };

    it.each([
      { refused: 'a wrong password', clientId: 'd1', credentials: { username: 'd1', password: 'not-the-password' }, returnCode: CONNACK.badUsernameOrPassword },
      { refused: 'an unknown device', clientId: 'ghost', credentials: { username: 'ghost', password: 'whatever' }, returnCode: CONNACK.badUsernameOrPassword },
      { refused: 'a client id that is not the username', clientId: 'd2', credentials: { username: 'd1' }, returnCode: CONNACK.identifierRejected },
      { refused: 'no credentials at all', clientId: 'd1', credentials: {}, returnCode: CONNACK.notAuthorized },
    ])('refuses $refused with CONNACK $returnCode', async ({ clientId, credentials, returnCode }) => {
      const { password } = registry.add('d1');
      registry.add('d2');
      // The client-id case presents d1's right password, so only the identifier is wrong.
      const options: Partial<IClientOptions> = 'username' in credentials && !('password' in credentials) ? { ...credentials, password } : { ...credentials };

      const code = await refusedConnect(clientId, options);

      expect(code).toBe(returnCode);
      expect(broker.stats()).toMatchObject({ connectsRefused: 1, connectsAccepted: 0, connected: 0 });
      expect(received).toEqual([]);
    });

    it('lets a device added through another registry connection connect at once', async () => {
      const cli = DeviceRegistry.open(join(dir, 'devices.db'));
      extraRegistries.push(cli);

      const { username, password } = cli.add('late-comer');
      const client = await connect('late-comer', { username, password });

      await client.publishAsync(telemetryTopic('late-comer'), 'hello', { qos: 1 });
      expect(received.map((m) => m.clientId)).toEqual(['late-comer']);
    });

    it('disconnects a device removed through another registry connection, and refuses it afterwards', async () => {
      const cli = DeviceRegistry.open(join(dir, 'devices.db'));
      extraRegistries.push(cli);
      const { password } = registry.add('doomed');
      const client = await connect('doomed', { username: 'doomed', password });
      const gone = closed(client);

      cli.remove('doomed');
      await gone;

      expect(broker.stats().disconnectedByRegistry).toBe(1);
      expect(await refusedConnect('doomed', { username: 'doomed', password })).toBe(CONNACK.badUsernameOrPassword);
    });

    it('disconnects a device whose password was changed, and accepts the new password', async () => {
      const { password: old } = registry.add('rotated');
      const client = await connect('rotated', { username: 'rotated', password: old });
      const gone = closed(client);

      const { password: fresh } = registry.upsert('rotated');
      await gone;

      expect(await refusedConnect('rotated', { username: 'rotated', password: old })).toBe(CONNACK.badUsernameOrPassword);
      await expect(connect('rotated', { username: 'rotated', password: fresh })).resolves.toBeDefined();
    });
  });

  describe('topic policy', () => {
    it('closes the connection of a device publishing on another device\'s topic, and nothing reaches onTelemetry', async () => {
      registry.add('d2');
      const client = await connectAs('d1');
      const gone = closed(client);

      client.publish(telemetryTopic('d2'), 'spoofed', { qos: 1 }, () => undefined);
      await gone;

      expect(received).toEqual([]);
      expect(broker.stats().publishesRefused).toBe(1);
    });

    it('delivers no forged alarm: a device publishing on an alarm topic is disconnected before anything is routed', async () => {
      const operator = await connectAs('ops', 'operator');
      expect(await subscribeGranted(operator, ['alarms/fleet/+'])).toEqual([1]);
      const seen: string[] = [];
      operator.on('message', (_topic, payload) => seen.push(payload.toString()));
      const device = await connectAs('d1');
      const gone = closed(device);

      device.publish(alarmTopic('d2'), 'forged', { qos: 1 }, () => undefined);
      await gone;
      await broker.publish(alarmTopic('d2'), Buffer.from('genuine'), { qos: 1 });
      await waitFor(() => seen.length > 0, 'the genuine alarm');

      expect(seen).toEqual(['genuine']);
    });

    it('grants a device its own alarms only, refusing every other filter with 0x80', async () => {
      const client = await connectAs('d1');
      const filters = ['alarms/fleet/d1', 'alarms/fleet/d2', 'alarms/fleet/+', 'alarms/fleet/#', '#', '+/fleet/+', '+/fleet/d1', '$SYS/#', 'dt/fleet/d1/telemetry'];

      const granted = await subscribeGranted(client, filters);

      expect(granted).toEqual([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]);
      expect(broker.stats().subscriptionsRefused).toBe(8);
      expect(client.connected).toBe(true);
    });

    it('delivers a device its own alarm', async () => {
      const client = await connectAs('d1');
      expect(await subscribeGranted(client, ['alarms/fleet/d1'])).toEqual([1]);
      const message = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())));

      await broker.publish(alarmTopic('d1'), Buffer.from('{"state":"ALARM"}'), { qos: 1 });

      expect(await message).toBe('{"state":"ALARM"}');
    });

    it('refuses a QoS 2 subscription, which IoT Core does not support, even to an allowed filter', async () => {
      const client = await connectAs('d1');

      const granted = await new Promise<number[]>((resolve) => {
        client.subscribe('alarms/fleet/d1', { qos: 2 }, (_e, _g, packet) => resolve(packet?.granted as number[]));
      });

      expect(granted).toEqual([0x80]);
    });

    it('lets an operator subscribe to every device\'s alarms or one device\'s, and nothing else', async () => {
      const operator = await connectAs('ops', 'operator');

      const granted = await subscribeGranted(operator, ['alarms/fleet/+', 'alarms/fleet/sensor-0001', 'alarms/fleet/#', '#', 'dt/fleet/+/telemetry', '$SYS/#']);

      expect(granted).toEqual([1, 1, 0x80, 0x80, 0x80, 0x80]);
    });

    it('lets an operator subscribe to the command replies, of every device or one, but not to the commands or a wider filter', async () => {
      const operator = await connectAs('ops', 'operator');
      const filters = [
        'cmd/fleet/alarms/+/accepted', 'cmd/fleet/alarms/+/rejected', 'cmd/fleet/alarms/d1/accepted', 'cmd/fleet/alarms/d1/rejected',
        'cmd/fleet/alarms/+', 'cmd/fleet/alarms/#', 'cmd/fleet/alarms/+/+', 'cmd/fleet/alarms/d1/#',
      ];

      const granted = await subscribeGranted(operator, filters);

      expect(granted).toEqual([1, 1, 1, 1, 0x80, 0x80, 0x80, 0x80]);
    });

    it('refuses a device the command replies, its own included', async () => {
      const device = await connectAs('d1');

      const granted = await subscribeGranted(device, [commandReplyTopic('d1', 'accepted'), commandReplyTopic('+', 'rejected'), commandTopic('d1')]);

      expect(granted).toEqual([0x80, 0x80, 0x80]);
      expect(device.connected).toBe(true);
    });

    it('acknowledges an operator\'s alarm command without handing it to onTelemetry, and routes it to the broker\'s publish event', async () => {
      const operator = await connectAs('ops', 'operator');
      const routed = new Promise<[string, string, string | undefined]>((resolve) => {
        broker.aedes.on('publish', (packet, client) => {
          if (client) resolve([packet.topic, packet.payload.toString(), client.id]);
        });
      });

      await operator.publishAsync(commandTopic('d1'), '{"action":"acknowledge","ruleId":"overheat"}', { qos: 1 });

      expect(await routed).toEqual(['cmd/fleet/alarms/d1', '{"action":"acknowledge","ruleId":"overheat"}', 'ops']);
      expect(received).toEqual([]);
      expect(operator.connected).toBe(true);
    });

    it('closes the connection of a device publishing an alarm command, its own device\'s included, and routes nothing', async () => {
      const device = await connectAs('d1');
      let routed = 0;
      broker.aedes.on('publish', (_packet, client) => {
        if (client) routed += 1;
      });
      const gone = closed(device);

      device.publish(commandTopic('d1'), '{"action":"reset","ruleId":"overheat"}', { qos: 1 }, () => undefined);
      await gone;

      expect(routed).toBe(0);
      expect(broker.stats().publishesRefused).toBe(1);
    });

    it('closes the connection of an operator publishing on a command reply topic (replies come from the server only)', async () => {
      const operator = await connectAs('ops', 'operator');
      const gone = closed(operator);

      operator.publish(commandReplyTopic('d1', 'accepted'), '{"forged":true}', { qos: 1 }, () => undefined);
      await gone;

      expect(broker.stats().publishesRefused).toBe(1);
    });

    it('delivers a server-side alarm publish to an operator subscribed to alarms/fleet/+', async () => {
      const operator = await connectAs('ops', 'operator');
      await subscribeGranted(operator, ['alarms/fleet/+']);
      const message = new Promise<[string, string]>((resolve) => operator.once('message', (topic, payload) => resolve([topic, payload.toString()])));

      await broker.publish('alarms/fleet/sensor-0001', Buffer.from('{"state":"ALARM"}'), { qos: 1 });

      expect(await message).toEqual(['alarms/fleet/sensor-0001', '{"state":"ALARM"}']);
      expect(broker.stats().serverPublishes).toBe(1);
    });

    it('refuses telemetry from an operator', async () => {
      const operator = await connectAs('ops', 'operator');
      const gone = closed(operator);

      operator.publish(telemetryTopic('ops'), 'x', { qos: 1 }, () => undefined);
      await gone;

      expect(received).toEqual([]);
    });
  });

  describe('lifecycle', () => {
    it('refuses a server-side publish once closed, and closes twice without error', async () => {
      await broker.close();

      await expect(broker.publish(alarmTopic('d1'), Buffer.from('x'))).rejects.toThrow(/not listening/);
      await expect(broker.close()).resolves.toBeUndefined();
    });
  });
});
