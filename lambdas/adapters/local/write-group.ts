import type Database from 'better-sqlite3';
import { RetryableError } from '../../domain/errors.js';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import { sqliteCall } from './errors.js';

/**
 * The transaction holding a group of writes was rolled back (a failed COMMIT, or SQLite undoing the
 * whole transaction after SQLITE_FULL or an I/O error): writes that had already returned are gone, so
 * every invocation that was in flight is failed and retried (they are idempotent upserts and
 * conditional writes, so replaying them is safe).
 */
export class GroupedWritesLostError extends RetryableError {}

/**
 * Groups the store's writes into fewer SQLite transactions while a handler invocation runs.
 *
 * Why: in WAL mode a COMMIT, not a row, is what costs (it writes every dirty page to the WAL). The
 * alarms consumer saves each device's state with its own conditional write, so a 100-record batch
 * from 100 devices was 100 commits: measured with bench/consumers.ts and node --cpu-prof, the commits
 * were 41% of the alarms consumer's CPU.
 *
 * How: while at least one {@link WriteGroup.scope} is in flight, a write through the store's ports
 * begins a transaction if none is open (BEGIN IMMEDIATE) and joins it; the adapters' own
 * `db.transaction` calls nest as savepoints. The open transaction commits:
 * - when a scope ends, before its promise settles (so the event source mapping's checkpoint, written
 *   after the handler returns, never passes a write that is not committed: kill -9 loses nothing);
 * - before a notifier wrapped by {@link WriteGroup.commitBefore} runs (an alarm's state and outbox are
 *   committed before anyone hears of its transition, as without grouping);
 * - at the end of the event-loop turn it began in (setImmediate), so the write lock on store.db is
 *   never held across I/O waits (the console's own connection writes acknowledgements).
 * Committing earlier than a scope's end is always safe: each write is already correct on its own.
 * Outside any scope a write commits on its own, as before. A write made by anyone while a scope is in
 * flight (the offline check sharing the store) joins the group and commits by the same rules.
 *
 * Conditional writes stay correct: the transaction holds the write lock, so `UPDATE ... WHERE version
 * = ?` sees every other connection's committed state, and this connection sees its own uncommitted
 * writes.
 */
export class WriteGroup {
  private scopes = 0;
  /** Transactions of this group lost so far; a scope that saw this change fails. */
  private lost = 0;
  private began = false;
  private commitScheduled = false;
  private readonly makeDurable: (() => Promise<void>) | undefined;

  /**
   * @param options.makeDurable makes every commit made so far survive power loss (fsyncs store.db's
   *   WAL). When given, {@link WriteGroup.commitBefore} runs it after committing and before the
   *   notifier: nothing leaves the process that a power cut could take back from the store.
   */
  constructor(
    private readonly db: Database.Database,
    options: { readonly makeDurable?: () => Promise<void> } = {},
  ) {
    this.makeDurable = options.makeDurable;
  }

  /** Runs one adapter write: alone outside a scope, inside the group's transaction within one. */
  run<T>(where: string, fn: () => T): T {
    return this.write(where, fn, this.scopes > 0);
  }

  /**
   * Runs a write that may wait for the next commit even outside a scope: it joins the open
   * transaction, or begins one committed at the end of this event-loop turn (or by a scope's end).
   * For bookkeeping that only has to be in the same or a later transaction than the writes it covers
   * (a consumer's position), so it never costs a commit of its own.
   */
  runGrouped<T>(where: string, fn: () => T): T {
    return this.write(where, fn, true);
  }

  private write<T>(where: string, fn: () => T, grouped: boolean): T {
    this.checkStillOpen();
    if (grouped && !this.db.inTransaction) this.begin(where);
    try {
      return sqliteCall(where, fn);
    } catch (error) {
      this.checkStillOpen();
      throw error;
    }
  }

  /** Commits the group's open transaction, if any. Throws GroupedWritesLostError if it cannot. */
  commit(): void {
    if (!this.began) return;
    if (!this.db.inTransaction) {
      this.checkStillOpen();
      throw new GroupedWritesLostError('store.db: a transaction of grouped writes was rolled back before its commit');
    }
    this.began = false;
    try {
      this.db.exec('COMMIT');
    } catch (cause) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.lost += 1;
      throw new GroupedWritesLostError('store.db: the commit of grouped writes failed; the invocations in flight are retried', { cause });
    }
  }

  /**
   * Wraps a handler: while it runs, store writes are grouped; before its promise settles, they are
   * committed. If the group's transaction was lost meanwhile, the invocation fails (and is retried)
   * even if the handler itself succeeded.
   */
  scope<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      this.scopes += 1;
      const lostBefore = this.lost;
      let result: R;
      try {
        result = await handler(...args);
      } catch (error) {
        this.scopes -= 1;
        // The invocation failed as a whole; what it and others wrote is still correct on its own.
        this.commitQuietly();
        throw error;
      }
      this.scopes -= 1;
      this.commit();
      if (this.lost !== lostBefore) {
        throw new GroupedWritesLostError('store.db: a transaction of grouped writes was rolled back while this invocation ran');
      }
      return result;
    };
  }

  /**
   * Wraps a notifier so that the writes pending in the group commit before it is called, and (with
   * `makeDurable`) are on disk before it is called with any event: an alarm's new state and outbox
   * survive a power cut once anyone can have heard of its transition, so a restart never decides
   * that transition again (it would be published twice) and the outbox keeps it until it is recorded.
   */
  commitBefore(notifier: AlarmNotifier): AlarmNotifier {
    return {
      notify: async (events: readonly AlarmEvent[]): Promise<void> => {
        if (events.length > 0) await this.commitDurably();
        else this.commit();
        await notifier.notify(events);
      },
    };
  }

  /**
   * Commits the group's open transaction and (with `makeDurable`) waits until every commit so far is
   * on disk: for a side effect other than a notifier that reports those writes outside the process.
   */
  async commitDurably(): Promise<void> {
    this.commit();
    if (this.makeDurable !== undefined) await this.makeDurable();
  }

  private begin(where: string): void {
    sqliteCall(where, () => this.db.exec('BEGIN IMMEDIATE'));
    this.began = true;
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => {
        this.commitScheduled = false;
        this.commitQuietly();
      });
    }
  }

  /**
   * SQLite rolls a whole transaction back on some errors (SQLITE_FULL, IOERR and NOMEM may): the
   * writes that had returned are gone, which the scopes in flight must learn.
   */
  private checkStillOpen(): void {
    if (this.began && !this.db.inTransaction) {
      this.began = false;
      this.lost += 1;
    }
  }

  /** Commits; a failure is already counted in `lost`, which fails the scopes in flight. */
  private commitQuietly(): void {
    try {
      this.commit();
    } catch (error) {
      if (!(error instanceof GroupedWritesLostError)) throw error;
    }
  }
}
