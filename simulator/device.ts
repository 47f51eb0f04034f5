/**
 * One simulated device, without any I/O: its reading schedule and signal (a pure function of the
 * seed), its `seq`, and its outbox (readings buffered while disconnected, bounded, plus the QoS 1
 * in-flight window). The fleet (fleet.ts) does the MQTT side.
 */
import type { ActiveEffect, AnomalyEffect, DeviceKind, Signal, SignalEnvironment } from './profiles/index.js';
import { PROFILES } from './profiles/index.js';
import { createRng } from './random.js';
import type { Rng } from './random.js';
import type { AnomalyWindow } from './scenario.js';

/** Everything that decides a device's readings. The same spec gives the same readings. */
export interface DeviceSpec {
  readonly seed: string;
  readonly index: number;
  readonly kind: DeviceKind;
  /** Readings per second. */
  readonly rate: number;
  /** When the device powers on, in ms since the fleet started (its ramp slot). */
  readonly startOffsetMs: number;
  /** Spread of each reading around its nominal time, as a share of the period (0 to 1; 0.2 is +-10%). */
  readonly jitter: number;
  readonly windows: readonly AnomalyWindow[];
  readonly env: SignalEnvironment;
}

/** One reading as the device produces it: when (ms since the fleet started), its seq, and its metrics. */
interface PlannedReading {
  readonly offsetMs: number;
  readonly seq: number;
  readonly metrics: Record<string, number>;
}

/**
 * A device's schedule and signal. Call {@link DeviceModel.take} when {@link DeviceModel.nextOffsetMs}
 * is due. Readings are jittered around a per-device phase, so a fleet's publishes spread over the
 * period instead of arriving together.
 */
export class DeviceModel {
  readonly spec: DeviceSpec;
  /** When the next reading is due, ms since the fleet started. */
  nextOffsetMs: number;
  private readonly periodMs: number;
  private readonly rng: Rng;
  private readonly signal: Signal;
  private readonly firstNominalMs: number;
  private nominalIndex = 0;
  private lastOffsetMs: number | undefined;
  private seq = 0;

  constructor(spec: DeviceSpec) {
    this.spec = spec;
    this.periodMs = 1000 / spec.rate;
    this.rng = createRng(spec.seed, 'device', spec.index);
    // Draw the schedule and the signal from separate streams, so that the signal model's use of
    // randomness cannot shift the timing (and the other way round).
    this.signal = PROFILES[spec.kind].createSignal(createRng(spec.seed, 'signal', spec.index), spec.env);
    this.firstNominalMs = spec.startOffsetMs + this.rng.next() * this.periodMs;
    this.nextOffsetMs = this.plan();
  }

  /** Nominal time plus jitter; jitter stays under half a period, so offsets strictly increase. */
  private plan(): number {
    const nominal = this.firstNominalMs + this.nominalIndex * this.periodMs;
    const jitter = (this.rng.next() - 0.5) * this.spec.jitter * this.periodMs;
    return Math.max(this.spec.startOffsetMs, Math.round(nominal + jitter));
  }

  /** The anomalies in force at `offsetMs`. */
  private active(offsetMs: number): { silent: boolean; effects: ActiveEffect[] } {
    let silent = false;
    const effects: ActiveEffect[] = [];
    for (const w of this.spec.windows) {
      if (offsetMs < w.fromMs || offsetMs >= w.toMs) continue;
      if (w.kind === 'silent') silent = true;
      else effects.push(w.level === undefined ? { effect: w.kind as AnomalyEffect } : { effect: w.kind as AnomalyEffect, level: w.level });
    }
    return { silent, effects };
  }

  /**
   * Produces the reading due at {@link nextOffsetMs} and schedules the next. Returns undefined when
   * the device is silent then: the physical signal still evolves, but nothing is sent and no
   * `seq` is used.
   */
  take(): PlannedReading | undefined {
    const offsetMs = this.nextOffsetMs;
    const dtS = this.lastOffsetMs === undefined ? this.periodMs / 1000 : (offsetMs - this.lastOffsetMs) / 1000;
    const { silent, effects } = this.active(offsetMs);
    const metrics = this.signal({ tS: offsetMs / 1000, dtS, effects });
    this.lastOffsetMs = offsetMs;
    this.nominalIndex += 1;
    // Keep offsets strictly increasing even when rounding lands two readings on the same millisecond.
    this.nextOffsetMs = Math.max(offsetMs + 1, this.plan());
    if (silent) return undefined;
    const reading = { offsetMs, seq: this.seq, metrics };
    this.seq += 1;
    return reading;
  }
}

/**
 * The readings a device produces before `untilMs` (ms since the fleet started): the pure
 * generator behind the simulator. Same spec, same readings, same offsets.
 */
export function generateReadings(spec: DeviceSpec, untilMs: number): PlannedReading[] {
  const model = new DeviceModel(spec);
  const out: PlannedReading[] = [];
  while (model.nextOffsetMs < untilMs) {
    const r = model.take();
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** A reading waiting to be sent or acknowledged. */
export interface Pending {
  readonly seq: number;
  readonly ts: number;
  readonly payload: string;
}

/** Limits of an outbox. */
export interface OutboxLimits {
  /** Readings held while they cannot be sent (disconnected, or the window is full). Oldest dropped beyond. */
  readonly capacity: number;
  /** Publishes awaiting PUBACK at once (QoS 1). `Infinity` for QoS 0, where nothing is awaited. */
  readonly window: number;
}

/**
 * A device's outbox: readings waiting to be sent, in seq order, and those in flight. When the
 * connection drops, the in-flight ones go back to the front, so after reconnecting they are sent
 * again first and seq order is kept (a reading whose PUBACK was lost is sent twice: at least once).
 */
export class Outbox {
  private queue: Pending[] = [];
  private head = 0;
  private readonly inFlight = new Map<number, Pending>();
  /** Readings dropped because the buffer was full. */
  dropped = 0;

  constructor(private readonly limits: OutboxLimits) {}

  /** Readings waiting to be sent. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Readings sent and not yet acknowledged. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Whether {@link take} would give a reading now. */
  canTake(options: { track: boolean }): boolean {
    return this.queued > 0 && !(options.track && this.inFlight.size >= this.limits.window);
  }

  /** Queues a reading; drops the oldest queued one if the buffer is full (fresh telemetry matters more). */
  push(p: Pending): void {
    if (this.queued >= this.limits.capacity) {
      this.head += 1;
      this.dropped += 1;
    }
    this.queue.push(p);
  }

  /**
   * The next reading to send, if the window allows; it counts as in flight until {@link ack}
   * when `track` (QoS 1), and leaves the outbox at once otherwise (QoS 0).
   */
  take(options: { track: boolean }): Pending | undefined {
    if (this.queued === 0) return undefined;
    if (options.track && this.inFlight.size >= this.limits.window) return undefined;
    const p = this.queue[this.head] as Pending;
    this.head += 1;
    // Compact now and then, so the array does not grow without bound.
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (options.track) this.inFlight.set(p.seq, p);
    return p;
  }

  /** Marks a reading acknowledged; returns it, or undefined if it was not in flight. */
  ack(seq: number): Pending | undefined {
    const p = this.inFlight.get(seq);
    if (p !== undefined) this.inFlight.delete(seq);
    return p;
  }

  /** Puts the in-flight readings back at the front of the queue, in seq order (after a disconnect). */
  requeueInFlight(): number {
    const back = [...this.inFlight.values()].sort((a, b) => a.seq - b.seq);
    this.inFlight.clear();
    if (back.length > 0) {
      this.queue = [...back, ...this.queue.slice(this.head)];
      this.head = 0;
      // Keep the bound: drop the oldest beyond capacity.
      const over = this.queued - this.limits.capacity;
      if (over > 0) {
        this.head = over;
        this.dropped += over;
      }
    }
    return back.length;
  }
}
