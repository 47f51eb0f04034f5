/**
 * The operator connection: subscribes to every device's alarms and counts the events of this
 * fleet's devices; when its connection drops, it reconnects with backoff until the run ends.
 */
import type { MqttClient } from 'mqtt';
import { pipeline } from '../infra/pipeline.js';
import { backoffDelayMs } from './backoff.js';
import type { FleetStats } from './stats.js';
import type { TimerWheel } from './timer-wheel.js';

export interface AlarmOperatorOptions {
  readonly stats: FleetStats;
  readonly wheel: TimerWheel;
  /** The device ids whose alarm events count. */
  readonly deviceIds: ReadonlySet<string>;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Opens a new operator connection (resolves once connected). */
  readonly connect: () => Promise<MqttClient>;
}

/** Counts alarm events on one operator connection, kept open for the whole run. */
export class AlarmOperator {
  private readonly o: AlarmOperatorOptions;
  private client: MqttClient | undefined;
  private generation = 0;
  private ending = false;

  constructor(options: AlarmOperatorOptions) {
    this.o = options;
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Takes over a connected client: subscribes, counts, and reconnects it when it drops. */
  adopt(client: MqttClient): void {
    const { stats } = this.o;
    this.generation += 1;
    const generation = this.generation;
    this.client = client;
    client.on('message', (_topic, payload) => {
      let event: { deviceId?: unknown; state?: unknown };
      try {
        event = JSON.parse(payload.toString('utf8')) as typeof event;
      } catch {
        return;
      }
      if (typeof event.deviceId !== 'string' || !this.o.deviceIds.has(event.deviceId)) return;
      stats.alarms += 1;
      if (event.state === 'ALARM') stats.alarmsRaised += 1;
      else if (event.state === 'OK') stats.alarmsCleared += 1;
    });
    client.on('error', (err) => stats.recordError(err));
    client.on('close', () => {
      if (generation !== this.generation || this.ending) return;
      this.generation += 1;
      client.end(true);
      this.client = undefined;
      this.o.wheel.after(backoffDelayMs(0, this.o.backoffInitialMs, this.o.backoffMaxMs), () => void this.reconnect(0));
    });
    client.subscribe(pipeline.topics.alarmsFilter, { qos: 1 }, (err) => {
      if (err) stats.recordError(err);
    });
  }

  /** Stops reconnecting and hands back the open client (if any), for the caller to end with the others. */
  detach(): MqttClient | undefined {
    this.ending = true;
    this.generation += 1;
    const client = this.client;
    this.client = undefined;
    return client;
  }

  private async reconnect(attempt: number): Promise<void> {
    if (this.ending) return;
    try {
      const client = await this.o.connect();
      if (this.ending) {
        client.end(true);
        return;
      }
      this.adopt(client);
    } catch (err) {
      this.o.stats.recordError(err);
      this.o.wheel.after(backoffDelayMs(attempt + 1, this.o.backoffInitialMs, this.o.backoffMaxMs), () => void this.reconnect(attempt + 1));
    }
  }
}
