/**
 * A warning that can repeat thousands of times a second (a refused publish per message while the disk
 * is full, a refused packet per hostile connection) is written at most once per interval per kind:
 * the first at once, the ones after it counted, and the count written with the next line (or when the
 * interval ends, so the last burst is not lost).
 */
import type { Log } from '../../lambdas/ports/observability.js';

export interface RateLimitedLogOptions {
  readonly log: Log;
  /** @default 10_000 (ms) */
  readonly intervalMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Kind {
  /** When the next line may be written. */
  openAt: number;
  /** Occurrences not written since the last line. */
  suppressed: number;
  last: { message: string; extra: Record<string, unknown> | undefined };
  timer: NodeJS.Timeout | undefined;
}

export class RateLimitedLog {
  private readonly kinds = new Map<string, Kind>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimitedLogOptions) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Writes `message` as a warning unless a warning of the same `kind` was written less than an
   * interval ago; then it is counted, and written as `suppressed` with the next line of that kind.
   */
  warn(kind: string, message: string, extra?: Record<string, unknown>): void {
    const now = this.now();
    const state = this.kinds.get(kind);
    if (state === undefined || now >= state.openAt) {
      const suppressed = state?.suppressed ?? 0;
      if (state?.timer !== undefined) clearTimeout(state.timer);
      this.kinds.set(kind, { openAt: now + this.intervalMs, suppressed: 0, last: { message, extra }, timer: undefined });
      this.options.log.warn(message, suppressed > 0 ? { ...extra, suppressed, suppressedOverMs: this.intervalMs } : extra);
      return;
    }
    state.suppressed += 1;
    state.last = { message, extra };
    // Writes the count at the end of the interval if nothing of this kind comes after it.
    state.timer ??= setTimeout(() => this.flush(kind), Math.max(0, state.openAt - now)).unref();
  }

  /** Writes the pending count of every kind now (on shutdown). */
  flushAll(): void {
    for (const kind of this.kinds.keys()) this.flush(kind);
  }

  private flush(kind: string): void {
    const state = this.kinds.get(kind);
    if (state === undefined) return;
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    if (state.suppressed === 0) return;
    const { suppressed, last } = state;
    state.suppressed = 0;
    state.openAt = this.now() + this.intervalMs;
    this.options.log.warn(`${last.message} (repeated ${suppressed} times since the last line)`, { ...last.extra, suppressed, suppressedOverMs: this.intervalMs });
  }
}
