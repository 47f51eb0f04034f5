/**
 * The benchmark's publishers, run as a child process (never in the process under test): MQTT 3.1.1
 * connections over loopback (load/mqtt-wire.ts) publishing telemetry at QoS 1, each with a bounded
 * window of unacknowledged publishes. The same code drives the raw-broker baseline and the pipeline.
 *
 * Started by `forkPublishers` with its configuration as JSON in argv[2]. It connects every client,
 * sends `{ type: 'ready' }`, waits for `{ type: 'go' }`, publishes, sends `{ type: 'done', result }`
 * and exits. Two modes:
 * - `flood`: every client keeps `inflight` publishes outstanding until it has sent its share (and,
 *   with `minDurationMs`, until the flood has lasted that long); the figure is the acknowledged rate.
 * - `paced`: a fixed offered load (messages/s over all clients), each message stamped with the time
 *   it was due (not when it went out: a late send counts as latency, so queueing is not hidden);
 *   an optional operator (an MQTT.js client) subscribes to every alarm topic and times each alarm event.
 */
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { pipeline, telemetryTopic } from '../../infra/pipeline.js';
import { WireClient } from './mqtt-wire.js';

export interface PublisherCredentials {
  readonly clientId: string;
  readonly password: string;
}

/** Every client keeps `inflight` publishes outstanding until it has sent `messagesPerClient` and `minDurationMs` have passed since the first publish. */
export interface FloodMode {
  readonly kind: 'flood';
  readonly messagesPerClient: number;
  readonly minDurationMs: number;
}

/** A fixed offered load: `rate` messages/s over all clients for `durationMs`; every `alarmEvery` readings the battery crosses the battery-low rule. */
export interface PacedMode {
  readonly kind: 'paced';
  readonly rate: number;
  readonly durationMs: number;
  readonly alarmEvery: number;
}

export interface PublisherConfig {
  readonly url: string;
  readonly clients: readonly PublisherCredentials[];
  /** QoS 1 publishes outstanding per client. */
  readonly inflight: number;
  readonly mode: FloodMode | PacedMode;
  /** Subscribes to `alarms/fleet/+` with these credentials and times every alarm event. */
  readonly operator?: PublisherCredentials;
}

export interface PublisherResult {
  readonly sent: number;
  readonly acked: number;
  /** Wall clock (epoch ms, Date.now) of the first publish, and of the last PUBACK. */
  readonly firstPublishAt: number;
  readonly lastAckAt: number;
  /** Publish (due time) to PUBACK, ms: every message in paced mode, none in flood mode. */
  readonly ackLatencyMs: number[];
  /** Reading's ts (its due time) to the alarm event's arrival at the operator, ms. */
  readonly alarmLatencyMs: number[];
  /** This process's CPU time over the publishing, ms. */
  readonly cpuMs: number;
  readonly errors: readonly string[];
}

export type PublisherMessage = { type: 'ready' } | { type: 'done'; result: PublisherResult } | { type: 'failed'; error: string };

interface Lane {
  readonly client: WireClient;
  readonly topic: string;
  readonly deviceId: string;
  seq: number;
  outstanding: number;
  /** Paced mode: due times of messages waiting for room in the window. */
  readonly backlog: number[];
}

/** The telemetry payload: an env sensor; in paced mode the battery crosses the battery-low rule every `alarmEvery` readings. */
function payload(ts: number, seq: number, alarmEvery: number): Buffer {
  const low = alarmEvery > 0 && Math.floor(seq / alarmEvery) % 2 === 1;
  return Buffer.from(JSON.stringify({
    ts,
    seq,
    type: 'env-sensor',
    metrics: { temperature: 21 + (seq % 7) / 10, humidity: 40 + (seq % 5), battery: low ? 3.1 : 3.8 },
  }));
}

/** The operator is a real MQTT.js client: one connection, a few events a second. */
async function connectOperator(url: string, credentials: PublisherCredentials): Promise<MqttClient> {
  // Loaded only when needed: MQTT.js takes longer to load than the whole flood run of `--quick`.
  const { default: mqtt } = await import('mqtt');
  return mqtt.connectAsync(url, {
    clientId: credentials.clientId,
    username: credentials.clientId,
    password: credentials.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    // Long enough that no PINGREQ is needed during a run: pings are not what is measured.
    keepalive: 600,
  });
}

/** Connects every client, in slices: a burst of 100 scrypt checks at once only measures the connect storm. */
async function connectLanes(config: PublisherConfig): Promise<Lane[]> {
  const lanes: Lane[] = [];
  const port = Number(new URL(config.url).port);
  for (let i = 0; i < config.clients.length; i += 25) {
    const slice = config.clients.slice(i, i + 25);
    const clients = await Promise.all(slice.map((c) => WireClient.connect({ port, clientId: c.clientId, password: c.password })));
    clients.forEach((client, j) => {
      const deviceId = (slice[j] as PublisherCredentials).clientId;
      lanes.push({ client, deviceId, topic: telemetryTopic(deviceId), seq: 0, outstanding: 0, backlog: [] });
    });
  }
  return lanes;
}

/** The operator, subscribed to every alarm topic; each alarm event's latency goes to `alarmLatencyMs`. */
async function subscribeOperator(url: string, credentials: PublisherCredentials, alarmLatencyMs: number[]): Promise<MqttClient> {
  const operator = await connectOperator(url, credentials);
  operator.on('message', (_topic, message) => {
    const arrived = Date.now();
    const event = JSON.parse(message.toString('utf8')) as { ts: number };
    alarmLatencyMs.push(arrived - event.ts);
  });
  await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
  return operator;
}

/** What the publishing loops count, shared by both modes. */
interface Tally {
  sent: number;
  acked: number;
  firstPublishAt: number;
  lastAckAt: number;
  readonly ackLatencyMs: number[];
  readonly errors: string[];
}

/**
 * Flood: each lane keeps `inflight` publishes outstanding until it has sent `messagesPerClient` and
 * the flood has lasted `minDurationMs`; resolves at the last PUBACK.
 */
function flood(lanes: readonly Lane[], inflight: number, mode: FloodMode, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const endNotBefore = Date.now() + mode.minDurationMs;
    const wantsMore = (lane: Lane) => lane.seq < mode.messagesPerClient || Date.now() < endNotBefore;
    let outstanding = 0;
    const pump = (lane: Lane) => {
      while (lane.outstanding < inflight && wantsMore(lane)) {
        const seq = lane.seq++;
        lane.outstanding += 1;
        outstanding += 1;
        tally.sent += 1;
        lane.client.publish(lane.topic, payload(Date.now(), seq, 0), (error) => {
          lane.outstanding -= 1;
          outstanding -= 1;
          if (error) tally.errors.push(`${lane.deviceId}: ${error.message}`);
          else tally.acked += 1;
          pump(lane);
          if (outstanding === 0) {
            tally.lastAckAt = Date.now();
            resolve();
          }
        });
      }
    };
    tally.firstPublishAt = Date.now();
    for (const lane of lanes) {
      pump(lane);
      lane.client.flush();
    }
  });
}

/** Paced: message i is due at t0 + i / rate, on lane i mod lanes; a message without room in its lane's window waits in its backlog. */
function paced(lanes: readonly Lane[], inflight: number, mode: PacedMode, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    const t0Perf = performance.now();
    const t0Wall = Date.now();
    tally.firstPublishAt = t0Wall;
    const total = Math.round((mode.rate * mode.durationMs) / 1000);
    let due = 0;
    let settled = 0;
    const send = (lane: Lane, dueAtPerf: number) => {
      const seq = lane.seq++;
      lane.outstanding += 1;
      tally.sent += 1;
      const ts = Math.floor(t0Wall + (dueAtPerf - t0Perf));
      lane.client.publish(lane.topic, payload(ts, seq, mode.alarmEvery), (error) => {
        lane.outstanding -= 1;
        settled += 1;
        if (error) tally.errors.push(`${lane.deviceId}: ${error.message}`);
        else {
          tally.acked += 1;
          tally.ackLatencyMs.push(performance.now() - dueAtPerf);
        }
        const next = lane.backlog.shift();
        if (next !== undefined) send(lane, next);
        if (settled >= total) {
          tally.lastAckAt = Date.now();
          resolve();
        }
      });
    };
    const tick = () => {
      const now = performance.now();
      while (due < total && t0Perf + (due * 1000) / mode.rate <= now) {
        const lane = lanes[due % lanes.length] as Lane;
        const dueAt = t0Perf + (due * 1000) / mode.rate;
        due += 1;
        if (lane.outstanding < inflight) send(lane, dueAt);
        else lane.backlog.push(dueAt);
      }
      for (const lane of lanes) lane.client.flush();
      if (due < total) setTimeout(tick, 1);
    };
    tick();
  });
}

/** Alarm events trail the last PUBACK by the pipeline's latency: waits until none has come for 300 ms (at most 3 s). */
async function awaitAlarmQuiet(alarmLatencyMs: readonly number[]): Promise<void> {
  const deadline = performance.now() + 3_000;
  let seen = -1;
  while (seen !== alarmLatencyMs.length && performance.now() < deadline) {
    seen = alarmLatencyMs.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function run(config: PublisherConfig, started: Promise<void>): Promise<PublisherResult> {
  const lanes = await connectLanes(config);
  const alarmLatencyMs: number[] = [];
  const operator = config.operator === undefined ? undefined : await subscribeOperator(config.url, config.operator, alarmLatencyMs);
  process.send?.({ type: 'ready' } satisfies PublisherMessage);
  await started;

  const tally: Tally = { sent: 0, acked: 0, firstPublishAt: 0, lastAckAt: 0, ackLatencyMs: [], errors: [] };
  const cpuStart = process.cpuUsage();
  const mode = config.mode;
  await (mode.kind === 'flood' ? flood(lanes, config.inflight, mode, tally) : paced(lanes, config.inflight, mode, tally));
  const cpu = process.cpuUsage(cpuStart);
  if (operator) await awaitAlarmQuiet(alarmLatencyMs);
  await Promise.all([...lanes.map((lane) => lane.client.close()), operator?.endAsync(true)]);
  const { sent, acked, firstPublishAt, lastAckAt, ackLatencyMs, errors } = tally;
  return { sent, acked, firstPublishAt, lastAckAt, ackLatencyMs, alarmLatencyMs, cpuMs: (cpu.user + cpu.system) / 1000, errors: errors.slice(0, 20) };
}

// As a child process: configuration in argv[2], results over IPC.
if (process.send !== undefined && process.argv[2] !== undefined) {
  const config = JSON.parse(process.argv[2]) as PublisherConfig;
  const started = new Promise<void>((resolve) => {
    process.on('message', (message: { type?: string }) => {
      if (message.type === 'go') resolve();
    });
  });
  run(config, started).then(
    (result) => {
      process.send?.({ type: 'done', result } satisfies PublisherMessage, () => process.exit(0));
    },
    (error: unknown) => {
      process.send?.({ type: 'failed', error: String(error) } satisfies PublisherMessage, () => process.exit(1));
    },
  );
}
