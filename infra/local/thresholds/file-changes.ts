/**
 * Tells when a file may have changed, within about a poll interval whatever the platform does.
 *
 * fs.watch on the file's directory, not the file: editors save by writing a new file and renaming it
 * over the old one, and a watch on the old file's inode then sees nothing more. Node's documentation
 * says fs.watch "is not 100% consistent across platforms, and is unavailable in some situations"
 * (network file systems, some containers) and that the file name in its events is not always given,
 * so a stat of the file every poll interval catches what the watch misses. Bursts (an editor's write,
 * chmod and rename) are merged by a debounce, so the caller reads the file once, after the editor is done.
 */
import { statSync, watch, type BigIntStats, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface FileChangesOptions {
  /** How often the file is stat'ed, whatever fs.watch says. @default 1_000 (ms) */
  readonly pollIntervalMs?: number;
  /** How long after the last sign of a change the callback runs. @default 250 (ms) */
  readonly debounceMs?: number;
  /** false: the poll alone, as on a platform or file system where fs.watch tells nothing. @default true */
  readonly fsEvents?: boolean;
}

export interface FileChanges {
  close(): void;
}

/** Calls `onMaybeChanged` (debounced) after each sign that the file at `path` changed, was replaced or went away. */
export function watchFileChanges(path: string, onMaybeChanged: () => void, options: FileChangesOptions = {}): FileChanges {
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const debounceMs = options.debounceMs ?? 250;
  const name = basename(path);
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  const signal = (): void => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(onMaybeChanged, debounceMs);
    debounce.unref();
  };

  const watcher = options.fsEvents === false ? undefined : watchDirectory(path, name, signal);

  // Taken now, so that a change made right after the watch starts is one.
  let seen = signatureNow(path);
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const now = await signature(path);
      if (now !== seen) signal();
      seen = now;
    } finally {
      polling = false;
    }
  };
  const poller = setInterval(() => void poll(), pollIntervalMs);
  poller.unref();

  return {
    close() {
      closed = true;
      clearTimeout(debounce);
      clearInterval(poller);
      watcher?.close();
    },
  };
}

/** fs.watch on the file's directory, or undefined where it cannot watch (the poll still does). */
function watchDirectory(path: string, name: string, signal: () => void): FSWatcher | undefined {
  try {
    // A null file name: the platform did not say which file; it may be ours.
    const watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (filename === null || filename === name) signal();
    });
    // The directory went away or the watch broke: the poll still sees the file.
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}

/** What a stat says about the file: a rename over it changes the inode, a write its size or times. */
async function signature(path: string): Promise<string> {
  try {
    return describe(await stat(path, { bigint: true }));
  } catch (error) {
    return absent(error);
  }
}

function signatureNow(path: string): string {
  try {
    return describe(statSync(path, { bigint: true }));
  } catch (error) {
    return absent(error);
  }
}

function describe(s: BigIntStats): string {
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function absent(error: unknown): string {
  return `absent:${(error as NodeJS.ErrnoException).code ?? ''}`;
}
