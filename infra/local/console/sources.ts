import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { Clock } from '../../../lambdas/ports/clock.js';
import type { Log } from '../../../lambdas/ports/observability.js';
import type { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import type { StreamDescription } from '../stream/index.js';
import type { DeviceInfo } from '../registry/index.js';

/**
 * What the console reads, as narrow views of the stack's parts. The console writes nothing: its
 * alarm commands go through the command rule like an operator's (ConsoleOptions.sendAlarmCommand).
 */
export interface ConsoleSources {
  /** The store's read side. */
  readonly store: Pick<SqliteStore, 'file' | 'queryReadings' | 'queryAlarmStates' | 'queryTransitions' | 'queryRejects' | 'lastSeen' | 'queryCommands' | 'alarmReader'>;
  readonly stream: { describe(): StreamDescription };
  readonly registry: { list(): DeviceInfo[]; get(deviceId: string): DeviceInfo | undefined };
  /** The consumers' counters (ReadingsStored gives the ingest rate). */
  readonly metrics: { get(name: string): number };
  /** The rules the stack runs now (the thresholds file may change): their silentFor windows decide "silent". */
  readonly thresholds: { current(): ThresholdRules };
  readonly clock: Clock;
  readonly log: Log;
}
