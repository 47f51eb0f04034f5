/**
 * One timer for the whole fleet: a hashed timer wheel (Varghese and Lauck, "Hashed and
 * Hierarchical Timing Wheels", 1987). 10,000+ devices each scheduling a reading, a reconnect and
 * a ramp slot would otherwise mean tens of thousands of Node timers; here scheduling and
 * cancelling are O(1) and one interval drives everything.
 */

/** A scheduled callback; pass it to {@link TimerWheel.cancel}. */
export interface TimerHandle {
  readonly atMs: number;
  cancelled: boolean;
}

interface Entry extends TimerHandle {
  readonly tick: number;
  readonly fn: () => void;
}

/** Options of a {@link TimerWheel}. */
export interface TimerWheelOptions {
  /** Resolution in ms (default 10). Callbacks run at most one tick late (plus event-loop lag). */
  readonly tickMs?: number;
  /** Slots in the wheel (default 1024); timers further out than one turn wait in their slot for later turns. */
  readonly slots?: number;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** A hashed timer wheel driven by one `setInterval`. */
export class TimerWheel {
  private readonly tickMs: number;
  private readonly slots: Entry[][];
  private readonly now: () => number;
  private lastTick: number;
  private interval: NodeJS.Timeout | undefined;
  private size = 0;

  constructor(options: TimerWheelOptions = {}) {
    this.tickMs = options.tickMs ?? 10;
    this.now = options.now ?? (() => performance.now());
    this.slots = Array.from({ length: options.slots ?? 1024 }, () => []);
    this.lastTick = Math.floor(this.now() / this.tickMs);
  }

  /** Timers scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.size;
  }

  /** Runs `fn` at `atMs` on the wheel's clock: never early, at most one tick late (at the next tick if already past). */
  schedule(atMs: number, fn: () => void): TimerHandle {
    const tick = Math.max(this.lastTick + 1, Math.ceil(atMs / this.tickMs));
    const entry: Entry = { atMs, tick, fn, cancelled: false };
    (this.slots[tick % this.slots.length] as Entry[]).push(entry);
    this.size += 1;
    return entry;
  }

  /** Runs `fn` after `delayMs`. */
  after(delayMs: number, fn: () => void): TimerHandle {
    return this.schedule(this.now() + delayMs, fn);
  }

  /** Cancels a timer (it is removed lazily, when its slot comes round). */
  cancel(handle: TimerHandle): void {
    if (!handle.cancelled) {
      handle.cancelled = true;
      this.size -= 1;
    }
  }

  /** Starts the interval that drives the wheel. */
  start(): void {
    if (this.interval !== undefined) return;
    this.interval = setInterval(() => this.advance(), this.tickMs);
  }

  /** Stops the interval; pending timers stay and run if it is started again. */
  stop(): void {
    if (this.interval !== undefined) clearInterval(this.interval);
    this.interval = undefined;
  }

  /** Runs every timer due by now, in time order. Called by the interval; callable directly (tests, a manual clock). */
  advance(): void {
    const current = Math.floor(this.now() / this.tickMs);
    // Catch up tick by tick, but never walk the wheel more than once round per call: one full turn
    // visits every slot anyway.
    const from = Math.max(this.lastTick + 1, current - this.slots.length + 1);
    const due: Entry[] = [];
    for (let tick = from; tick <= current; tick++) {
      const index = tick % this.slots.length;
      const slot = this.slots[index] as Entry[];
      if (slot.length === 0) continue;
      const later: Entry[] = [];
      for (const e of slot) {
        if (e.cancelled) continue;
        if (e.tick <= current) due.push(e);
        else later.push(e);
      }
      this.slots[index] = later;
    }
    this.lastTick = current;
    due.sort((a, b) => a.atMs - b.atMs);
    for (const e of due) {
      if (e.cancelled) continue;
      e.cancelled = true;
      this.size -= 1;
      e.fn();
    }
  }
}
