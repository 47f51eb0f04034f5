/** `LocalStream.open`'s options, checked before anything is opened: a clear error for each bad one. */
import { StreamError } from './errors.js';
import type { Durability, LocalStreamOptions } from './stream-types.js';

const OPTION_KEYS = new Set(['file', 'streamName', 'shardCount', 'retentionHours', 'durability', 'clock', 'trimIntervalMs']);
/** 'full' is NORMAL plus the stream's own WAL fsync before an append resolves (see local-stream.ts' header). */
export const SYNCHRONOUS: Record<Durability, string> = { full: 'NORMAL', normal: 'NORMAL', off: 'OFF' };

export function validateOptions(options: LocalStreamOptions): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new StreamError(`LocalStream.open: unknown option "${key}"`);
  }
  if (typeof options.file !== 'string' || options.file === '') throw new StreamError('LocalStream.open: file is required');
  if (typeof options.streamName !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(options.streamName)) {
    // The StreamName pattern of the Kinesis API.
    throw new StreamError(`LocalStream.open: stream name must match [a-zA-Z0-9_.-]{1,128}, got ${JSON.stringify(options.streamName)}`);
  }
  if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > 1000) {
    throw new StreamError(`LocalStream.open: shardCount must be an integer from 1 to 1000, got ${options.shardCount}`);
  }
  if (!Number.isInteger(options.retentionHours) || options.retentionHours < 24 || options.retentionHours > 8760) {
    throw new StreamError(`LocalStream.open: retentionHours must be an integer from 24 to 8760, got ${options.retentionHours}`);
  }
  if (options.durability !== undefined && !(options.durability in SYNCHRONOUS)) {
    throw new StreamError(`LocalStream.open: durability must be full, normal or off, got ${JSON.stringify(options.durability)}`);
  }
}
