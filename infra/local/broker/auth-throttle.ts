/**
 * A brake on password guessing: after a few failed CONNECTs, the next attempt with the same client
 * id, or from the same source address, waits before its password is even checked, and each further
 * failure doubles the wait (up to a cap). Attempts in parallel queue behind one another, so opening
 * more connections does not guess faster. A device that connects with its right password has no
 * failures and waits for nothing; bookkeeping is one Map lookup per CONNECT.
 *
 * The wait comes before the check, never after it: a delay only on failure would let a guesser fire
 * attempts in parallel and keep the one that is answered at once.
 */

export interface AuthThrottleOptions {
  /** Failures of one client id that cost nothing. @default 3 */
  readonly freeFailuresPerClient?: number;
  /**
   * Failures from one address that cost nothing. Many devices may share an address (NAT, or every
   * local client on 127.0.0.1), so this is higher. @default 20
   */
  readonly freeFailuresPerAddress?: number;
  /** The first wait; each further failure doubles it. @default 500 (ms) */
  readonly baseDelayMs?: number;
  /** @default 30_000 (ms) */
  readonly maxDelayMs?: number;
  /** A key with no failure for this long starts again from zero. @default 900_000 (15 min) */
  readonly forgetAfterMs?: number;
  /** Client ids and addresses remembered at most (each); the oldest go first. @default 10_000 */
  readonly maxTracked?: number;
}

export interface ThrottleDecision {
  /** How long to wait before checking this attempt's password. */
  readonly delayMs: number;
  /** Which key imposes it: 'client id', 'address' or undefined when there is no wait. */
  readonly reason: 'client id' | 'address' | undefined;
  /** Failures counted for that key. */
  readonly failures: number;
}

interface Failures {
  count: number;
  lastAt: number;
  /** When the next attempt for this key may be checked: parallel attempts queue behind it. */
  nextSlotAt: number;
}

class FailureTable {
  private readonly entries = new Map<string, Failures>();

  constructor(
    private readonly free: number,
    private readonly options: Required<AuthThrottleOptions>,
  ) {}

  /** The current state, or undefined (none, or forgotten). */
  get(key: string, now: number): Failures | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined && now - entry.lastAt > this.options.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The wait of each attempt after `count` failures: none for the free ones, then doubling. */
  delayAfter(count: number): number {
    if (count < this.free) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(30, count - this.free));
  }

  /** Reserves the next slot for an attempt: its wait (0 if this key has no penalty). */
  reserve(key: string, now: number): number {
    const entry = this.get(key, now);
    if (entry === undefined) return 0;
    const delay = this.delayAfter(entry.count);
    if (delay === 0) return 0;
    const slot = Math.max(now, entry.nextSlotAt);
    entry.nextSlotAt = slot + delay;
    return slot - now;
  }

  failed(key: string, now: number): number {
    let entry = this.get(key, now);
    if (entry === undefined) {
      if (this.entries.size >= this.options.maxTracked) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      entry = { count: 0, lastAt: now, nextSlotAt: now };
      this.entries.set(key, entry);
    }
    entry.count += 1;
    entry.lastAt = now;
    entry.nextSlotAt = Math.max(entry.nextSlotAt, now + this.delayAfter(entry.count));
    return entry.count;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export const DEFAULT_AUTH_THROTTLE: Required<AuthThrottleOptions> = {
  freeFailuresPerClient: 3,
  freeFailuresPerAddress: 20,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
};

export class AuthThrottle {
  private readonly byClient: FailureTable;
  private readonly byAddress: FailureTable;

  constructor(options: AuthThrottleOptions = {}) {
    const resolved = { ...DEFAULT_AUTH_THROTTLE, ...options };
    this.byClient = new FailureTable(resolved.freeFailuresPerClient, resolved);
    this.byAddress = new FailureTable(resolved.freeFailuresPerAddress, resolved);
  }

  /** Before checking a password: how long this attempt waits (reserving its place in the queue). */
  beforeAttempt(clientId: string, address: string, now: number): ThrottleDecision {
    const clientWait = this.byClient.reserve(clientId, now);
    const addressWait = this.byAddress.reserve(address, now);
    if (clientWait === 0 && addressWait === 0) return { delayMs: 0, reason: undefined, failures: 0 };
    return clientWait >= addressWait
      ? { delayMs: clientWait, reason: 'client id', failures: this.byClient.get(clientId, now)?.count ?? 0 }
      : { delayMs: addressWait, reason: 'address', failures: this.byAddress.get(address, now)?.count ?? 0 };
  }

  /** A wrong password or unknown id: counts against both keys. */
  failed(clientId: string, address: string, now: number): { clientFailures: number; addressFailures: number } {
    return { clientFailures: this.byClient.failed(clientId, now), addressFailures: this.byAddress.failed(address, now) };
  }

  /**
   * The right password: the client id starts again from zero. The address does not (one known
   * credential must not wipe the record of guesses at others from the same place).
   */
  succeeded(clientId: string): void {
    this.byClient.clear(clientId);
  }

  /** Keys with failures remembered (for stats and tests). */
  tracked(): { clientIds: number; addresses: number } {
    return { clientIds: this.byClient.size, addresses: this.byAddress.size };
  }
}
