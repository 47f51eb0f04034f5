/**
 * The free-space headroom: new telemetry is refused while the data directory's file system has less
 * than `minFreeBytes` available, so that what was already acknowledged can always be stored.
 *
 * Why: the stream and the store share one file system. Without a headroom, devices kept publishing
 * into a full disk, the stream took every byte freed, `store.db` could never commit again and the
 * ingest consumer parked acknowledged readings in its failure destination. With it, appends stop
 * while there is still room for the consumers to drain what the stream holds into the store.
 *
 * Cheap: the file system is asked (`statfs`) on a timer, never per message. Between two probes each
 * admitted message lowers an estimate of the free space by a generous multiple of its size; when the
 * estimate falls under the headroom a probe runs at once, so a small file system cannot be filled
 * between two ticks.
 */
import { statfs } from 'node:fs/promises';
import type { Log } from '../../../lambdas/ports/observability.js';
import { StreamError } from './errors.js';

/** Bytes available to this process on the file system holding the data directory. */
export type FreeSpaceProbe = () => Promise<number>;

/** `statfs` of `dir`: blocks available to unprivileged users times the block size. */
export function statfsProbe(dir: string): FreeSpaceProbe {
  return async () => {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  };
}

export const DEFAULT_MIN_FREE_BYTES = 256 * 1024 * 1024;

/**
 * What one admitted message may cost on disk, for the estimate between probes: its record in the
 * stream's WAL and then its database page (base64 payload plus envelope, twice), and its row in the
 * store and the store's WAL. An overestimate only makes the next probe come sooner.
 */
const ESTIMATE_BYTES_PER_PAYLOAD_BYTE = 6;
const ESTIMATE_BYTES_PER_MESSAGE = 512;

/** New telemetry is refused: the file system holding the data is nearly full. */
export class FreeSpaceHeadroomError extends StreamError {}

interface FreeSpaceGuardOptions {
  /** The directory whose file system is watched (for the log lines). */
  readonly dir: string;
  readonly minFreeBytes: number;
  /** @default statfsProbe(dir) */
  readonly probe?: FreeSpaceProbe;
  /** @default 1_000 (ms) */
  readonly checkIntervalMs?: number;
  readonly log: Log;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface FreeSpaceStats {
  /** Whether new telemetry is being refused now. */
  readonly engaged: boolean;
  /** What the last probe found. */
  readonly freeBytes: number;
  readonly minFreeBytes: number;
  /** Free space needed to release: the headroom plus a margin, so it does not flap. */
  readonly releaseAtBytes: number;
  /** Times the headroom engaged (metric `FreeSpaceHeadroomEngaged`). */
  readonly engagements: number;
  /** Times it released (metric `FreeSpaceHeadroomReleased`). */
  readonly releases: number;
  /** Messages refused while engaged (metric `TelemetryRefusedForFreeSpace`). */
  readonly refused: number;
  readonly probes: number;
  readonly probeFailures: number;
}

export class FreeSpaceGuard {
  private readonly probe: FreeSpaceProbe;
  private readonly now: () => number;
  private readonly releaseAtBytes: number;
  private engaged = false;
  private engagedAt = 0;
  private freeBytes = Number.POSITIVE_INFINITY;
  /** What admitted messages may have used since the last probe. */
  private spentSinceProbe = 0;
  private probing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refusal: FreeSpaceHeadroomError | undefined;
  private counters = { engagements: 0, releases: 0, refused: 0, refusedSinceEngaged: 0, probes: 0, probeFailures: 0 };

  constructor(private readonly options: FreeSpaceGuardOptions) {
    this.probe = options.probe ?? statfsProbe(options.dir);
    this.now = options.now ?? Date.now;
    this.releaseAtBytes = options.minFreeBytes + Math.max(1024 * 1024, Math.ceil(options.minFreeBytes / 10));
  }

  /** Probes once (so a full disk is known before the first message), then on the timer. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs ?? 1_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Before a telemetry message is appended: the error to refuse it with, or undefined to let it in.
   * Runs on the broker's thread for every message: a comparison and an addition.
   */
  admit(payloadBytes: number): FreeSpaceHeadroomError | undefined {
    if (this.refusal !== undefined) {
      this.counters.refused += 1;
      this.counters.refusedSinceEngaged += 1;
      return this.refusal;
    }
    this.spentSinceProbe += payloadBytes * ESTIMATE_BYTES_PER_PAYLOAD_BYTE + ESTIMATE_BYTES_PER_MESSAGE;
    if (this.freeBytes - this.spentSinceProbe < this.options.minFreeBytes) void this.check();
    return undefined;
  }

  /** Asks the file system now (one probe at a time) and engages or releases. */
  check(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  stats(): FreeSpaceStats {
    const { engagements, releases, refused, probes, probeFailures } = this.counters;
    return {
      engaged: this.engaged,
      freeBytes: this.freeBytes,
      minFreeBytes: this.options.minFreeBytes,
      releaseAtBytes: this.releaseAtBytes,
      engagements,
      releases,
      refused,
      probes,
      probeFailures,
    };
  }

  private async runProbe(): Promise<void> {
    const spentBefore = this.spentSinceProbe;
    let free: number;
    try {
      free = await this.probe();
    } catch (error) {
      this.counters.probeFailures += 1;
      // Keeps the last state: a failing statfs says nothing about the disk.
      if (this.counters.probeFailures === 1 || this.counters.probeFailures % 60 === 0) {
        this.options.log.error('free-space check failed', { dir: this.options.dir, failures: this.counters.probeFailures, error: String(error) });
      }
      return;
    }
    this.counters.probes += 1;
    this.freeBytes = free;
    // What was admitted while the probe ran is not yet on disk, or is counted twice: keep it counted.
    this.spentSinceProbe = Math.max(0, this.spentSinceProbe - spentBefore);
    if (!this.engaged && free < this.options.minFreeBytes) this.engage(free);
    else if (this.engaged && free >= this.releaseAtBytes) this.release(free);
  }

  private engage(free: number): void {
    this.engaged = true;
    this.engagedAt = this.now();
    this.counters.engagements += 1;
    this.counters.refusedSinceEngaged = 0;
    this.refusal = new FreeSpaceHeadroomError(
      `free space on the data directory's file system (${free} bytes) is below the headroom of ${this.options.minFreeBytes} bytes: new telemetry is refused until it is back`,
    );
    this.options.log.warn('free space below the headroom: refusing new telemetry; connections that publish it are closed without PUBACK and their devices resend after reconnecting', {
      metric: 'FreeSpaceHeadroomEngaged',
      dir: this.options.dir,
      freeBytes: free,
      minFreeBytes: this.options.minFreeBytes,
      releaseAtBytes: this.releaseAtBytes,
    });
  }

  private release(free: number): void {
    this.engaged = false;
    this.refusal = undefined;
    this.counters.releases += 1;
    this.options.log.info('free space back above the headroom: accepting telemetry again', {
      metric: 'FreeSpaceHeadroomReleased',
      dir: this.options.dir,
      freeBytes: free,
      refusedWhileEngaged: this.counters.refusedSinceEngaged,
      engagedForMs: this.now() - this.engagedAt,
    });
  }
}
