/**
 * The devices one fleet process runs: each with its reading model, outbox and connection state.
 * Built from the whole fleet's options, so a worker running a shard gives its devices the same ids,
 * readings, anomalies and ramp slots as a single process would.
 */
import type { MqttClient } from 'mqtt';
import { basicIngestTelemetryTopic, telemetryTopic } from '../infra/pipeline.js';
import { ConnectionLimits } from './aws-limits.js';
import type { PacedDevice } from './aws-limits.js';
import { deviceIdOf } from './backoff.js';
import type { Endpoint } from './connection.js';
import { loopbackAddresses, sourceAddressFor } from './connection.js';
import { DeviceModel, Outbox } from './device.js';
import type { ResolvedFleetOptions } from './options.js';
import type { DeviceKind } from './profiles/index.js';
import { kindOf } from './profiles/index.js';
import { createRng } from './random.js';
import { resolveScenario } from './scenario.js';
import type { TimerHandle } from './timer-wheel.js';

/** One device at run time: its model and outbox, and its connection. */
export interface SimDevice {
  readonly index: number;
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly topic: string;
  readonly model: DeviceModel;
  readonly outbox: Outbox;
  readonly localAddress: string | undefined;
  password: string | undefined;
  client: MqttClient | undefined;
  /** Bumped on every new connection and on disconnect, so late callbacks of an old client are ignored. */
  generation: number;
  connected: boolean;
  everConnected: boolean;
  /** Consecutive failed attempts, for the backoff. */
  attempts: number;
  highestSent: number;
  timer: TimerHandle | undefined;
  acked: number[] | undefined;
  /** Connect and publish pacing (AWS IoT's limits), when the run paces. */
  readonly pacing: PacedDevice | undefined;
  /** A paced pump waiting for the device's next publish slot. */
  pumpTimer: TimerHandle | undefined;
}

/** This process's devices (its shard, or the whole fleet) and the whole fleet's ids. */
export function createDevices(o: ResolvedFleetOptions, endpoint: Endpoint): { devices: SimDevice[]; fleetIds: Set<string> } {
  const kinds = Array.from({ length: o.devices }, (_, i) => kindOf(o.profile, i));
  const deviceIds = kinds.map((_, i) => deviceIdOf(o.prefix, i));
  const windows = resolveScenario(o.scenario, { seed: o.seed, deviceIds, kinds });
  const env = { startHour: o.startHour ?? createRng(o.seed, 'fleet').uniform(0, 24) };
  const explicit = o.sourceAddresses === undefined ? undefined : loopbackAddresses(o.sourceAddresses);
  const addressOf = (i: number): string | undefined =>
    explicit === undefined ? sourceAddressFor(endpoint, i, o.devices) : explicit[i % explicit.length];
  const slotMs = o.rampPerS === 0 ? 0 : 1000 / o.rampPerS;
  const first = o.shard?.first ?? 0;
  const end = first + (o.shard?.count ?? o.devices);
  const devices: SimDevice[] = [];
  for (let i = first; i < end; i++) {
    const deviceId = deviceIds[i] as string;
    const kind = kinds[i] as DeviceKind;
    devices.push({
      index: i,
      deviceId,
      kind,
      topic: o.topic === 'basic-ingest' ? basicIngestTelemetryTopic(deviceId) : telemetryTopic(deviceId),
      model: new DeviceModel({
        seed: o.seed,
        index: i,
        kind,
        rate: o.rate,
        startOffsetMs: Math.round(i * slotMs),
        jitter: o.jitter,
        windows: windows.get(i) ?? [],
        env,
      }),
      outbox: new Outbox({ capacity: o.bufferSize, window: o.qos === 1 ? o.inflight : Number.POSITIVE_INFINITY }),
      localAddress: addressOf(i),
      password: undefined,
      client: undefined,
      generation: 0,
      connected: false,
      everConnected: false,
      attempts: 0,
      highestSent: -1,
      timer: undefined,
      acked: o.verify ? [] : undefined,
      pacing: o.connectRate === undefined ? undefined : ConnectionLimits.fresh(),
      pumpTimer: undefined,
    });
  }
  return { devices, fleetIds: new Set(deviceIds) };
}
