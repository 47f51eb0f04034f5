/**
 * Which connections the broker takes, and how much each may make it hold before it has proved who
 * it is: a cap on open connections, a cap on connections being authenticated at once (the others
 * wait, unread, in arrival order), and the packet-size guard on every byte a connection sends.
 *
 * A connection waiting for a slot is not read at all (the TCP socket is paused, so the kernel's
 * receive window pushes back on the client): what a flood of unauthenticated clients can make the
 * broker hold is at most `maxUnauthenticated` times `maxBytesBeforeAuthentication`.
 */
import type { Duplex } from 'node:stream';
import type { Log } from '../../../lambdas/ports/observability.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { PacketSizeGuard } from './packet-guard.js';
import type { PacketLimits } from './packet-guard.js';

/** A connection a listener accepted, not yet read. */
export interface IncomingConnection {
  /** The peer's IP address ('' if the socket no longer knows it). */
  readonly remoteAddress: string;
  /** Starts reading: the MQTT byte stream (for WebSocket, created now). Called at most once. */
  open(): Duplex;
  /** Ends the connection at once. */
  destroy(): void;
  /** Calls `listener` once the connection is closed, opened or not. */
  onClose(listener: () => void): void;
}

export interface AdmissionLimits {
  /** Open connections, authenticated or not, including those waiting. */
  readonly maxConnections: number;
  /** Connections read before their CONNECT is accepted; more wait unread. */
  readonly maxUnauthenticated: number;
  /** How long a connection may wait for a slot before it is closed. */
  readonly waitTimeoutMs: number;
  readonly packets: PacketLimits;
}

/** Defaults that a fleet of 10,000 devices on one machine never reaches (the simulator's default ramp is 500/s). */
export const DEFAULT_CONNECTION_LIMITS = {
  maxConnections: 20_000,
  maxUnauthenticated: 1_000,
  waitTimeoutMs: 30_000,
} as const;

export interface AdmissionStats {
  /** Connections open now (reading or waiting). */
  readonly open: number;
  /** Connections read but not yet authenticated. */
  readonly unauthenticated: number;
  /** Connections waiting for an authentication slot. */
  readonly waiting: number;
  /** Connections closed at once because `maxConnections` were open. */
  readonly refusedOverConnectionCap: number;
  /** Connections closed because they waited longer than `waitTimeoutMs`. */
  readonly waitTimeouts: number;
  /** Connections closed by the packet-size guard. */
  readonly refusedPackets: number;
}

/** One connection, from `offer` to its close. */
interface Slot {
  readonly connection: IncomingConnection;
  readonly start: (stream: Duplex) => void;
  phase: 'waiting' | 'unauthenticated' | 'authenticated' | 'closed';
  /** In the waiting FIFO and counted in `waitingCount`. */
  queued: boolean;
  guard: PacketSizeGuard | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class ConnectionAdmission {
  private open = 0;
  private unauthenticated = 0;
  /** FIFO of connections waiting for an authentication slot; `waitingHead` is its first live index. */
  private waiting: (Slot | undefined)[] = [];
  private waitingHead = 0;
  private waitingCount = 0;
  private readonly slots = new WeakMap<Duplex, Slot>();
  private readonly warnings: RateLimitedLog;
  private readonly counters = { refusedOverConnectionCap: 0, waitTimeouts: 0, refusedPackets: 0 };

  constructor(
    private readonly limits: AdmissionLimits,
    log: Log,
  ) {
    this.warnings = new RateLimitedLog({ log });
  }

  /**
   * Takes a connection: `start` gets its byte stream once an authentication slot is free (at once,
   * usually). Over `maxConnections` it is closed without a word (there is no CONNACK before CONNECT).
   */
  offer(connection: IncomingConnection, start: (stream: Duplex) => void): void {
    if (this.open >= this.limits.maxConnections) {
      this.counters.refusedOverConnectionCap += 1;
      this.warnings.warn('connection-cap', 'mqtt connection refused: too many open connections', {
        remoteAddress: connection.remoteAddress,
        maxConnections: this.limits.maxConnections,
      });
      connection.destroy();
      return;
    }
    this.open += 1;
    const slot: Slot = { connection, start, phase: 'waiting', queued: false, guard: undefined, timer: undefined };
    connection.onClose(() => this.release(slot));
    if (this.unauthenticated < this.limits.maxUnauthenticated && this.waitingHead === this.waiting.length) {
      this.begin(slot);
      return;
    }
    slot.timer = setTimeout(() => {
      if (slot.phase !== 'waiting') return;
      this.counters.waitTimeouts += 1;
      this.warnings.warn('wait-timeout', 'mqtt connection closed: it waited too long for an authentication slot', {
        remoteAddress: connection.remoteAddress,
        waitTimeoutMs: this.limits.waitTimeoutMs,
        maxUnauthenticated: this.limits.maxUnauthenticated,
      });
      connection.destroy();
    }, this.limits.waitTimeoutMs).unref();
    slot.queued = true;
    this.waitingCount += 1;
    this.waiting.push(slot);
  }

  /** The connection's CONNECT was accepted: it no longer counts as unauthenticated. */
  authenticated(stream: Duplex): void {
    const slot = this.slots.get(stream);
    if (slot === undefined || slot.phase !== 'unauthenticated') return;
    slot.phase = 'authenticated';
    slot.guard?.markAuthenticated();
    this.unauthenticated -= 1;
    this.startWaiting();
  }

  /** The peer address of a connection `offer` started ('' if unknown). */
  remoteAddressOf(stream: Duplex): string {
    return this.slots.get(stream)?.connection.remoteAddress ?? '';
  }

  stats(): AdmissionStats {
    return { open: this.open, unauthenticated: this.unauthenticated, waiting: this.waitingCount, ...this.counters };
  }

  /** Closes every waiting connection and writes pending warning counts (the broker is closing). */
  close(): void {
    for (const slot of this.waiting.slice(this.waitingHead)) if (slot?.phase === 'waiting') slot.connection.destroy();
    this.warnings.flushAll();
  }

  private begin(slot: Slot): void {
    this.dequeue(slot);
    slot.phase = 'unauthenticated';
    this.unauthenticated += 1;
    const stream = slot.connection.open();
    slot.guard = new PacketSizeGuard(this.limits.packets);
    this.slots.set(stream, slot);
    this.guardReads(stream, slot);
    slot.start(stream);
  }

  private release(slot: Slot): void {
    if (slot.phase === 'closed') return;
    const wasUnauthenticated = slot.phase === 'unauthenticated';
    slot.phase = 'closed';
    this.dequeue(slot);
    this.open -= 1;
    if (wasUnauthenticated) {
      this.unauthenticated -= 1;
      this.startWaiting();
    }
  }

  private dequeue(slot: Slot): void {
    clearTimeout(slot.timer);
    if (!slot.queued) return;
    slot.queued = false;
    this.waitingCount -= 1;
  }

  private startWaiting(): void {
    while (this.unauthenticated < this.limits.maxUnauthenticated && this.waitingHead < this.waiting.length) {
      const slot = this.waiting[this.waitingHead];
      this.waiting[this.waitingHead] = undefined;
      this.waitingHead += 1;
      if (slot?.phase === 'waiting') this.begin(slot);
    }
    if (this.waitingHead === this.waiting.length && this.waitingHead > 0) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  /**
   * Every chunk aedes reads passes the guard first. aedes reads with `stream.read()` on 'readable'
   * (aedes lib/client.js), so wrapping this one instance's `read` sees every byte before the parser
   * does, without a Transform stream (and its per-chunk cost) in between.
   */
  private guardReads(stream: Duplex, slot: Slot): void {
    const read = stream.read.bind(stream);
    stream.read = (size?: number): unknown => {
      const chunk: unknown = read(size);
      if (chunk instanceof Uint8Array && chunk.length > 0 && slot.guard !== undefined) {
        const refusal = slot.guard.inspect(chunk);
        if (refusal !== undefined) {
          this.counters.refusedPackets += 1;
          this.warnings.warn('packet-refused', `mqtt connection closed: ${refusal}`, {
            clientId: (stream as Duplex & { client?: { id?: string | null } }).client?.id ?? undefined,
            remoteAddress: slot.connection.remoteAddress,
            authenticated: slot.phase === 'authenticated',
          });
          slot.connection.destroy();
          return null;
        }
      }
      return chunk;
    };
  }
}
