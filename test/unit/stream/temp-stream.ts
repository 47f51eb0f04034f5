/** Test helpers: a real stream file in a temp dir, a clock the test moves by hand. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { LocalStreamOptions } from '../../../infra/local/stream/index.js';
import { LocalStream } from '../../../infra/local/stream/index.js';

export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2025, 10, 25, 0, 0, 0)): ManualClock {
  let now = start;
  return {
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface TempStreams {
  readonly dir: string;
  readonly file: string;
  open(options?: Partial<LocalStreamOptions>): LocalStream;
  cleanup(): Promise<void>;
}

/** A temp dir with a stream file; `open` may be called several times (reopen, second connection). */
export function tempStreams(): TempStreams {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-stream-'));
  const file = join(dir, 'stream.db');
  const opened: LocalStream[] = [];
  return {
    dir,
    file,
    open(options = {}) {
      const stream = LocalStream.open({ file, streamName: 'fleet-telemetry', shardCount: 1, retentionHours: 24, durability: 'off', ...options });
      opened.push(stream);
      return stream;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
