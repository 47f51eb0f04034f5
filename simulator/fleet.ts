/**
 * The fleet: N simulated devices on MQTT, driven by one timer wheel. Devices connect at a ramp,
 * publish jittered readings on their telemetry topic, keep a bounded QoS 1 in-flight window,
 * buffer readings (bounded) while disconnected and send them after reconnecting with exponential
 * backoff and jitter. An operator account counts alarm events. `runFleet` returns the summary.
 *
 * @example
 * const summary = await runFleet({ devices: 100, rate: 1, durationS: 30, dataDir: 'data' });
 * console.log(summary.acked, summary.latencyMs.p99);
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import type { ConnectionSpec, Endpoint } from './connection.js';
import {
  awsTlsOptions,
  hasOwnCertificate,
  connectOnce,
  endpointUrl,
  openClient,
  openFileLimit,
  parseEndpoint,
} from './connection.js';
import { backoffDelayMs } from './backoff.js';
import { AWS_IOT_LIMITS, limitsFor } from './aws-limits.js';
import type { ConnectionLimits } from './aws-limits.js';
import type { HistogramData, LatencyHistogram } from './histogram.js';
import { AlarmOperator } from './operator.js';
import type { Pending } from './device.js';
import { BrokerUnreachableError, SimulatorError } from './errors.js';
import type { FleetOptions, ResolvedFleetOptions } from './options.js';
import { resolveFleetOptions } from './options.js';
import { ProgressPrinter } from './progress.js';
import { registerFleet } from './registration.js';
import { createDevices } from './sim-device.js';
import type { SimDevice } from './sim-device.js';
import type { FleetSummary } from './summary.js';
import { buildSummary } from './summary.js';
import { FleetStats, snapshotOf } from './stats.js';
import { TimerWheel } from './timer-wheel.js';
import type { VerifyResult } from './verify.js';
import { sqliteSource, verifyStored } from './verify.js';
import { awsReadingsSource } from './verify-aws.js';

const MiB = 1024 * 1024;
const WHEEL_TICK_MS = 10;


/** Runs a fleet to the end and returns its summary. Throws {@link BrokerUnreachableError} if the broker cannot be reached at start. */
export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const o = resolveFleetOptions(options);
  return new Fleet(o).run();
}

/** Runs a fleet and also returns its whole-run PUBACK latency histogram (a worker sends it to be merged). */
export async function runFleetWithLatency(options: FleetOptions): Promise<{ summary: FleetSummary; latency: HistogramData }> {
  const fleet = new Fleet(resolveFleetOptions(options));
  const summary = await fleet.run();
  return { summary, latency: fleet.latency.toData() };
}

class Fleet {
  private readonly o: ResolvedFleetOptions;
  private readonly endpoint: Endpoint;
  private readonly stats = new FleetStats();
  private readonly wheel = new TimerWheel({ tickMs: WHEEL_TICK_MS });
  private readonly devices: SimDevice[];
  /** The whole fleet's ids (also when this process runs a shard): the operator counts their alarms. */
  private readonly ids: ReadonlySet<string>;
  private readonly operatorId: string;
  private readonly operator: AlarmOperator;
  private readonly limits: ConnectionLimits | undefined;
  /** The shortest wait between two CONNECTs of one client id (AWS: a second and a timer tick; else 0). */
  private readonly minReconnectMs: number;
  private operatorPassword: string | undefined;
  private t0Perf = 0;
  private t0Wall = 0;
  private stopping = false;
  private ending = false;
  private readonly durationMs: number;
  private progress: ProgressPrinter | undefined;

  /** Publish-to-PUBACK latency over the whole run. */
  get latency(): LatencyHistogram {
    return this.stats.latency;
  }

  constructor(o: ResolvedFleetOptions) {
    this.o = o;
    this.endpoint = parseEndpoint(o.endpoint, o.target);
    this.durationMs = Math.round(o.durationS * 1000);
    this.operatorId = `${o.prefix}-operator`;
    const fleet = createDevices(o, this.endpoint);
    this.devices = fleet.devices;
    this.ids = fleet.fleetIds;
    this.limits = limitsFor(o, WHEEL_TICK_MS);
    this.minReconnectMs = o.target === 'aws' ? AWS_IOT_LIMITS.connectIntervalPerClientIdMs + WHEEL_TICK_MS : 0;
    this.operator = new AlarmOperator({
      stats: this.stats,
      wheel: this.wheel,
      deviceIds: this.ids,
      // On AWS one client id may CONNECT once a second: the operator's first retry waits at least that.
      backoffInitialMs: Math.max(o.backoffInitialMs, 2 * this.minReconnectMs),
      backoffMaxMs: o.backoffMaxMs,
      connect: () => connectOnce(this.connectionSpec(this.operatorId, this.operatorPassword, undefined)),
    });
  }

  /**
   * Whether to subscribe as the operator: locally when asked; on AWS only if it has a certificate of
   * its own (a fleet's shared certificate is attached to the devices' things, not to the operator's).
   */
  private get withOperator(): boolean {
    if (!this.o.alarms) return false;
    if (this.o.target === 'local') return true;
    return hasOwnCertificate(this.o.certsDir as string, this.operatorId);
  }

  async run(): Promise<FleetSummary> {
    if (this.o.progress !== undefined) this.progress = new ProgressPrinter(this.o.progress);
    const limit = openFileLimit();
    if (limit !== undefined && this.devices.length + 64 > limit) {
      this.progress?.note(
        `warning: ${this.devices.length} devices need as many sockets, but this process may open ${limit} files (ulimit -n); connections beyond fail with EMFILE`,
      );
    }
    await this.register();
    const cpuStart = process.cpuUsage();
    this.stats.sampleMemory();
    this.wheel.start();
    try {
      await this.probe();
      this.t0Perf = performance.now();
      this.t0Wall = Date.now();
      this.schedule();
      const ticker = this.startProgress();
      await this.waitForEnd();
      await this.drain();
      if (this.operator.connected && this.o.lingerS > 0) await sleep(this.o.lingerS * 1000);
      clearInterval(ticker);
      this.tick(true);
      this.progress?.finish();
    } finally {
      this.wheel.stop();
      await this.disconnectAll();
    }
    const durationMs = performance.now() - this.t0Perf;
    const cpu = process.cpuUsage(cpuStart);
    const verify = this.o.verify ? await this.verify() : undefined;
    return buildSummary({
      options: { ...this.o, devices: this.devices.length },
      endpoint: endpointUrl(this.endpoint),
      stats: this.stats,
      outboxes: this.devices.map((d) => d.outbox),
      subscribed: this.withOperator,
      durationMs,
      cpu,
      verify,
    });
  }

  /** Locally, with a data folder: (re)register every device and the operator with new passwords. */
  private async register(): Promise<void> {
    const given = this.o.credentials;
    if (given !== undefined) {
      // Registered by the workers' coordinator, once for the whole fleet.
      for (const d of this.devices) d.password = given[d.deviceId];
      this.operatorPassword = given[this.operatorId];
      return;
    }
    if (this.o.target !== 'local' || this.o.dataDir === undefined || !this.o.register) return;
    this.progress?.note(`registering ${this.devices.length} devices in ${this.o.dataDir}/devices.db...`);
    const credentials = await registerFleet({
      dataDir: this.o.dataDir,
      devices: this.devices.map((d) => ({ deviceId: d.deviceId, type: d.kind })),
      ...(this.o.alarms ? { operatorId: this.operatorId } : {}),
    });
    for (const d of this.devices) d.password = credentials.get(d.deviceId);
    this.operatorPassword = credentials.get(this.operatorId);
  }

  private connectionSpec(clientId: string, password: string | undefined, localAddress: string | undefined): ConnectionSpec {
    const spec: ConnectionSpec = {
      endpoint: this.endpoint,
      clientId,
      keepaliveS: this.o.keepaliveS,
      connectTimeoutMs: this.o.connectTimeoutMs,
      ...(localAddress === undefined ? {} : { localAddress }),
      ...(this.o.target === 'aws' ? { tls: awsTlsOptions(this.endpoint, this.o.certsDir as string, clientId) } : {}),
      // Locally the username is the device id (= client id), checked against the registry.
      ...(password === undefined ? {} : { username: clientId, password }),
    };
    return spec;
  }

  /**
   * Reaches the broker before starting the fleet, with bounded attempts: the operator connection
   * (kept, to count alarms) or, without one, a throwaway connection as the first device. An
   * unreachable broker is then one clear error, not thousands of failing devices.
   */
  private async probe(): Promise<void> {
    const first = this.devices[0] as SimDevice;
    const spec = this.withOperator
      ? this.connectionSpec(this.operatorId, this.operatorPassword, undefined)
      : this.connectionSpec(first.deviceId, first.password, first.localAddress);
    let lastError: unknown;
    for (let attempt = 0; attempt < this.o.connectAttempts; attempt++) {
      if (attempt > 0) await sleep(Math.max(this.minReconnectMs, backoffDelayMs(attempt - 1, this.o.backoffInitialMs, this.o.backoffMaxMs)));
      if (this.o.signal?.aborted) break;
      // The probe is a CONNECT of this client id too: the device's own first one keeps its distance from it.
      if (!this.withOperator && first.pacing !== undefined) first.pacing.lastConnectAt = performance.now();
      try {
        const client = await connectOnce(spec);
        if (this.withOperator) this.operator.adopt(client);
        else await client.endAsync(true);
        return;
      } catch (err) {
        lastError = err;
        this.stats.recordError(err);
      }
    }
    throw new BrokerUnreachableError(endpointUrl(this.endpoint), this.o.connectAttempts, { cause: lastError });
  }

  /** Puts every device's connection (at its ramp slot) and first reading on the wheel. */
  private schedule(): void {
    const slotMs = this.o.rampPerS === 0 ? 0 : 1000 / this.o.rampPerS;
    for (const d of this.devices) {
      this.wheel.schedule(this.t0Perf + d.index * slotMs, () => this.connect(d));
      this.scheduleReading(d);
    }
    this.wheel.schedule(this.t0Perf + this.durationMs, () => {
      this.stopping = true;
    });
    this.o.signal?.addEventListener('abort', () => {
      this.stopping = true;
    });
  }

  private scheduleReading(d: SimDevice): void {
    const next = d.model.nextOffsetMs;
    if (next >= this.durationMs) return;
    d.timer = this.wheel.schedule(this.t0Perf + next, () => this.onReadingDue(d));
  }

  private onReadingDue(d: SimDevice): void {
    d.timer = undefined;
    if (this.stopping) return;
    const reading = d.model.take();
    if (reading !== undefined) {
      const ts = this.t0Wall + reading.offsetMs;
      const payload = JSON.stringify({ ts, seq: reading.seq, type: d.kind, metrics: reading.metrics });
      d.outbox.push({ seq: reading.seq, ts, payload });
      this.stats.generated += 1;
      if (!d.connected) this.stats.offline += 1;
      this.pump(d);
    }
    this.scheduleReading(d);
  }

  /** Connects now, or in the device's next connect slot when connects are paced. */
  private connect(d: SimDevice): void {
    if (this.ending || d.client !== undefined) return;
    if (this.limits !== undefined && d.pacing !== undefined) {
      const now = performance.now();
      const at = this.limits.reserveConnect(d.pacing, now);
      if (at > now) {
        this.wheel.schedule(at, () => this.open(d));
        return;
      }
    }
    this.open(d);
  }

  private open(d: SimDevice): void {
    if (this.ending || d.client !== undefined) return;
    d.generation += 1;
    const generation = d.generation;
    let client: MqttClient;
    try {
      client = openClient(this.connectionSpec(d.deviceId, d.password, d.localAddress));
    } catch (err) {
      this.stats.recordError(err);
      this.retry(d);
      return;
    }
    d.client = client;
    client.on('connect', () => {
      if (generation !== d.generation) return;
      d.connected = true;
      d.attempts = 0;
      if (d.everConnected) this.stats.reconnects += 1;
      d.everConnected = true;
      this.stats.setConnected(1);
      this.pump(d);
    });
    client.on('error', (err) => {
      if (generation === d.generation) this.stats.recordError(err);
    });
    client.on('close', () => {
      if (generation === d.generation) this.onDisconnect(d, client);
    });
  }

  /** The connection is gone: in-flight readings go back to the front of the buffer; reconnect after a backoff. */
  private onDisconnect(d: SimDevice, client: MqttClient): void {
    d.generation += 1;
    if (d.connected) {
      d.connected = false;
      this.stats.setConnected(-1);
      if (!this.ending) this.stats.recordError(new SimulatorError(`${d.deviceId}: connection lost`));
    }
    d.client = undefined;
    // Stop MQTT.js from holding on to this connection (timers, stores); it is never reused.
    client.removeAllListeners('connect');
    client.end(true);
    d.outbox.requeueInFlight();
    if (!this.ending) this.retry(d);
  }

  private retry(d: SimDevice): void {
    const delay = backoffDelayMs(d.attempts, this.o.backoffInitialMs, this.o.backoffMaxMs);
    d.attempts += 1;
    this.wheel.after(delay, () => this.connect(d));
  }

  /** Sends what the window allows. */
  private pump(d: SimDevice): void {
    const client = d.client;
    if (!d.connected || client === undefined) return;
    const track = this.o.qos === 1;
    const limits = this.limits;
    const pacing = d.pacing;
    if (limits === undefined || pacing === undefined || !limits.pacesPublishes) {
      for (let p = d.outbox.take({ track }); p !== undefined; p = d.outbox.take({ track })) this.publish(d, client, p);
      return;
    }
    if (d.pumpTimer !== undefined) return;
    const now = performance.now();
    while (d.outbox.canTake({ track })) {
      const at = limits.publishAt(pacing, now);
      if (at > now) {
        d.pumpTimer = this.wheel.schedule(at, () => {
          d.pumpTimer = undefined;
          this.pump(d);
        });
        return;
      }
      limits.published(pacing, now);
      this.publish(d, client, d.outbox.take({ track }) as Pending);
    }
  }

  private publish(d: SimDevice, client: MqttClient, p: Pending): void {
    const generation = d.generation;
    if (p.seq > d.highestSent) {
      d.highestSent = p.seq;
      this.stats.sent += 1;
    } else {
      this.stats.resent += 1;
    }
    const started = performance.now();
    client.publish(d.topic, p.payload, { qos: this.o.qos }, (err) => {
      // QoS 0 calls back once written; nothing is awaited.
      if (this.o.qos === 0 || err) return;
      // An error here means the connection is closing (MQTT.js fails the in-flight callbacks before
      // 'close'); the reading stays in flight and is requeued by onDisconnect.
      if (generation !== d.generation) return;
      if (d.outbox.ack(p.seq) === undefined) return;
      this.stats.recordAck(performance.now() - started);
      d.acked?.push(p.seq);
      this.pump(d);
    });
  }

  /** Resolves when the duration has passed (or the run was aborted). */
  private async waitForEnd(): Promise<void> {
    while (!this.stopping) await sleep(Math.min(100, Math.max(5, this.durationMs / 10)));
    for (const d of this.devices) {
      if (d.timer !== undefined) this.wheel.cancel(d.timer);
      d.timer = undefined;
    }
  }

  /** Waits (bounded) until every device has sent what it buffered and got its PUBACKs. */
  private async drain(): Promise<void> {
    const deadline = performance.now() + this.o.drainTimeoutS * 1000;
    while (performance.now() < deadline) {
      if (this.devices.every((d) => d.outbox.queued === 0 && d.outbox.inFlightCount === 0)) return;
      await sleep(20);
    }
  }

  /** Ends every connection with a DISCONNECT (bounded), so the broker sees clean departures. */
  private async disconnectAll(): Promise<void> {
    this.ending = true;
    const operator = this.operator.detach();
    const ends: Promise<void>[] = [];
    const end = (client: MqttClient, options: { force: boolean }): void => {
      ends.push(
        new Promise<void>((resolve) => {
          client.end(options.force, {}, () => resolve());
        }),
      );
    };
    for (const d of this.devices) {
      const client = d.client;
      const wasConnected = d.connected;
      d.generation += 1;
      if (d.connected) {
        d.connected = false;
        this.stats.setConnected(-1);
      }
      d.client = undefined;
      // A graceful DISCONNECT only where nothing is pending; MQTT.js would otherwise wait for PUBACKs.
      if (client !== undefined) end(client, { force: !wasConnected || d.outbox.inFlightCount > 0 });
    }
    if (operator !== undefined) end(operator, { force: false });
    const cancel = new AbortController();
    const timeout = sleep(5000, 'timeout' as const, { signal: cancel.signal }).catch(() => 'done' as const);
    const result = await Promise.race([Promise.all(ends).then(() => 'done' as const), timeout]);
    cancel.abort();
    if (result === 'timeout') {
      // Whatever did not finish its goodbye in time is cut.
      for (const d of this.devices) d.client?.end(true);
    }
  }

  private async verify(): Promise<VerifyResult> {
    const acked = new Map<string, number[]>();
    for (const d of this.devices) acked.set(d.deviceId, d.acked ?? []);
    const store =
      this.o.target === 'aws'
        ? awsReadingsSource({
            ...(this.o.stack === undefined ? {} : { stackName: this.o.stack }),
            ...(this.o.region === undefined ? {} : { region: this.o.region }),
          })
        : sqliteSource(this.o.dataDir as string);
    this.progress?.note(`verifying ${this.stats.acked} acknowledged readings in ${store.storeName}...`);
    return verifyStored({
      ...store,
      acked,
      since: this.t0Wall,
      timeoutMs: this.o.verifyTimeoutS * 1000,
      seed: this.o.seed,
      ...(this.o.verifySample === undefined ? {} : { sampleDevices: this.o.verifySample }),
    });
  }

  private lastTick = { at: 0, sent: 0, acked: 0 };

  private startProgress(): NodeJS.Timeout | undefined {
    if (this.progress === undefined && this.o.onProgress === undefined) return undefined;
    const interval = this.o.progress?.intervalMs ?? this.progress?.defaultIntervalMs ?? 1000;
    this.lastTick = { at: performance.now(), sent: 0, acked: 0 };
    return setInterval(() => this.tick(false), interval);
  }

  /** Builds a snapshot, prints it and hands it to `onProgress`. */
  private tick(final: boolean): void {
    const rss = this.stats.sampleMemory();
    if (this.progress === undefined && this.o.onProgress === undefined) return;
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.lastTick.at) / 1000);
    const snapshot = snapshotOf({
      stats: this.stats,
      devices: this.devices.length,
      elapsedS: (now - this.t0Perf) / 1000,
      intervalS: seconds,
      previous: this.lastTick,
      outboxes: this.devices.map((d) => d.outbox),
      rssMiB: rss / MiB,
      final,
      withHistogram: this.o.progressHistograms,
    });
    const s = this.stats;
    s.recentLatency.reset();
    this.lastTick = { at: now, sent: s.sent, acked: s.acked };
    this.progress?.print(snapshot);
    this.o.onProgress?.(snapshot);
  }

}
