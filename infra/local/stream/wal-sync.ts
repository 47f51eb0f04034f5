/**
 * Durability 'full': the stream's own fsync of the SQLite WAL file, off the thread (libuv's pool),
 * one at a time, each covering every commit made before it started (group commit of the fsyncs
 * themselves). See local-stream.ts' header for why it is ours and not SQLite's `synchronous=FULL`.
 */
import { closeSync, fsync, openSync } from 'node:fs';

export class WalSync {
  /** Commits made, waiting for the WAL fsync that covers them. */
  private unsynced: (() => void)[] = [];
  private unsyncedFailures: ((error: unknown) => void)[] = [];
  private syncing = false;
  private walFd: number | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  /** `databaseFile`: the SQLite file; its WAL is `<databaseFile>-wal`. */
  constructor(private readonly databaseFile: string) {}

  /** Registers a commit: `settle` runs once an fsync that started after it succeeds, `fail` if it fails. */
  afterCommit(settle: () => void, fail: (error: unknown) => void): void {
    this.unsynced.push(settle);
    this.unsyncedFailures.push(fail);
    this.sync();
  }

  /** Waits for the fsync in flight, if any, then closes the WAL's descriptor. */
  async close(): Promise<void> {
    if (this.syncing) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  /**
   * Fsyncs the WAL file off the thread, then settles every commit made before the fsync started.
   * One fsync in flight at a time: commits made meanwhile wait for the next one, which starts as soon
   * as this one ends and covers them all.
   */
  private sync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const settle = this.unsynced;
    const fail = this.unsyncedFailures;
    this.unsynced = [];
    this.unsyncedFailures = [];
    let fd: number;
    try {
      // SQLite creates the WAL file at the first commit and keeps the same file (it rewrites it from the
      // start after a checkpoint, never replaces it) while any connection is open: this connection is,
      // until close, which closes this descriptor first.
      this.walFd ??= openSync(`${this.databaseFile}-wal`, 'r+');
      fd = this.walFd;
    } catch (error) {
      for (const f of fail) f(error);
      return;
    }
    this.syncing = true;
    fsync(fd, (error) => {
      if (error) for (const f of fail) f(error);
      else for (const s of settle) s();
      this.syncing = false;
      this.sync();
      if (!this.syncing) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }
}
