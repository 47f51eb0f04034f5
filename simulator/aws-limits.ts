/**
 * AWS IoT Core's message-broker limits, as the simulator keeps them with `--target aws`
 * (docs/architecture.md, "The simulator against AWS IoT Core"; quotas from
 * https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits):
 *
 * - CONNECT requests per second per account: 500 by default (adjustable: `--connect-rate`);
 * - CONNECT requests per second per client id: 1 (not adjustable);
 * - publish requests per second per connection: 100;
 * - unacknowledged inbound QoS 1 publishes per client: 100 (beyond, the broker takes nothing more
 *   from that client until it acknowledges).
 *
 * Time is passed in (ms on any monotonic clock), so the pacing is tested with a fake clock.
 */
import type { ResolvedFleetOptions } from './options.js';

export const AWS_IOT_LIMITS = {
  connectsPerSecondPerAccount: 500,
  connectIntervalPerClientIdMs: 1000,
  publishesPerSecondPerConnection: 100,
  unacknowledgedQos1PerConnection: 100,
} as const;

/**
 * Evenly spaced slots at `perSecond` a second: any one-second window holds at most `perSecond` of
 * them, even when many callers ask at once (they get successive slots, not a burst).
 */
export class Pacer {
  readonly intervalMs: number;
  private next = Number.NEGATIVE_INFINITY;

  constructor(perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError(`a pace needs a rate above 0, got ${perSecond}`);
    this.intervalMs = 1000 / perSecond;
  }

  /** Reserves the first free slot at or after `now` and returns its time. */
  reserve(now: number): number {
    const slot = Math.max(now, this.next);
    // Rounded up to the microsecond: floating-point sums of 1000/3 would otherwise fit a fourth slot
    // of a 3-per-second pace into one second.
    this.next = Math.ceil((slot + this.intervalMs) * 1000) / 1000;
    return slot;
  }
}

/** What the limits remember of one device (one client id, one connection at a time). */
export interface PacedDevice {
  /** When its last CONNECT was (or is) sent; -Infinity before the first. */
  lastConnectAt: number;
  /** The earliest its next PUBLISH may go. */
  nextPublishAt: number;
}

export interface ConnectionLimitsOptions {
  /** CONNECTs per second for the whole process (its share of the account's rate). */
  readonly connectsPerSecond: number;
  /** Shortest time between two CONNECTs of one client id. */
  readonly minConnectIntervalMs: number;
  /** PUBLISHes per second per connection; absent: publishes are not paced. */
  readonly publishesPerSecond?: number;
}

/** The pacing of connects (account and client id) and of publishes (per connection). */
export class ConnectionLimits {
  private readonly connects: Pacer;
  private readonly minConnectIntervalMs: number;
  private readonly publishIntervalMs: number;
  /** Whether publishes are paced at all. */
  readonly pacesPublishes: boolean;

  constructor(options: ConnectionLimitsOptions) {
    this.connects = new Pacer(options.connectsPerSecond);
    this.minConnectIntervalMs = options.minConnectIntervalMs;
    this.pacesPublishes = options.publishesPerSecond !== undefined;
    this.publishIntervalMs = options.publishesPerSecond === undefined ? 0 : 1000 / options.publishesPerSecond;
  }

  /** The state of a device that has not connected yet. */
  static fresh(): PacedDevice {
    return { lastConnectAt: Number.NEGATIVE_INFINITY, nextPublishAt: Number.NEGATIVE_INFINITY };
  }

  /**
   * Reserves the device's next CONNECT: no sooner than `minConnectIntervalMs` after its previous one,
   * in a free slot of the process's connect rate. Returns when to send it (>= now).
   */
  reserveConnect(device: PacedDevice, now: number): number {
    const slot = this.connects.reserve(Math.max(now, device.lastConnectAt + this.minConnectIntervalMs));
    device.lastConnectAt = slot;
    return slot;
  }

  /** When the device's next PUBLISH may go (>= now). */
  publishAt(device: PacedDevice, now: number): number {
    return Math.max(now, device.nextPublishAt);
  }

  /** Records a PUBLISH sent at `at` (a time `publishAt` allowed). */
  published(device: PacedDevice, at: number): void {
    device.nextPublishAt = at + this.publishIntervalMs;
  }
}

/**
 * The reasons options would break AWS IoT's limits, or none. Checked when the fleet's options are
 * resolved, so `--target aws` refuses them before connecting anything.
 */
export function awsLimitViolations(o: {
  readonly rate: number;
  readonly inflight: number;
  readonly qos: 0 | 1;
  readonly connectRate: number;
}): { readonly flag: string; readonly reason: string }[] {
  const out: { flag: string; reason: string }[] = [];
  const L = AWS_IOT_LIMITS;
  if (o.rate > L.publishesPerSecondPerConnection) {
    out.push({ flag: '--rate', reason: `AWS IoT Core takes at most ${L.publishesPerSecondPerConnection} publishes per second per connection, got ${o.rate}` });
  }
  if (o.qos === 1 && o.inflight > L.unacknowledgedQos1PerConnection) {
    out.push({
      flag: '--inflight',
      reason: `AWS IoT Core keeps at most ${L.unacknowledgedQos1PerConnection} unacknowledged QoS 1 publishes per connection, got ${o.inflight}`,
    });
  }
  if (!Number.isFinite(o.connectRate) || o.connectRate <= 0) {
    out.push({ flag: '--connect-rate', reason: `must be above 0 (your account's CONNECT quota, ${L.connectsPerSecondPerAccount} per second unless AWS raised it)` });
  }
  return out;
}

/**
 * The pacing a run keeps, or none: with a connect rate (always on AWS), CONNECTs at that rate; on
 * AWS also one CONNECT per client id per second and 100 publishes per second per connection. The
 * slots are kept by a timer that may fire up to one tick (`tickMs`) late, which could bunch a late
 * slot with the next ones inside one second: so the rates are lowered by one tick's share and the
 * per-id interval is raised by one tick.
 */
export function limitsFor(o: Pick<ResolvedFleetOptions, 'connectRate' | 'target'>, tickMs: number): ConnectionLimits | undefined {
  if (o.connectRate === undefined) return undefined;
  const tickShare = 1000 / (1000 + tickMs);
  const aws = o.target === 'aws';
  return new ConnectionLimits({
    connectsPerSecond: o.connectRate * tickShare,
    minConnectIntervalMs: aws ? AWS_IOT_LIMITS.connectIntervalPerClientIdMs + tickMs : 0,
    ...(aws ? { publishesPerSecond: AWS_IOT_LIMITS.publishesPerSecondPerConnection * tickShare } : {}),
  });
}
