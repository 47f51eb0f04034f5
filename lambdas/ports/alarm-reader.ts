import type { AlarmView } from '../domain/alarm-engine.js';
import type { AlarmStatus } from '../domain/model.js';
import type { AlarmHistoryEntry } from './alarm-history.js';

export type { AlarmView } from '../domain/alarm-engine.js';

export interface AlarmListFilter {
  readonly state?: AlarmStatus;
  readonly deviceId?: string;
}

export interface AlarmHistoryQuery {
  readonly deviceId: string;
  /** Only this rule's entries. */
  readonly ruleId?: string;
  /** At most this many entries, newest first. @default 100 */
  readonly limit?: number;
}

/** The read side of alarms: their lifecycle states and their history (the CLI and the console). */
export interface AlarmReader {
  /** Alarms not at rest (any state but OK), by device then rule. */
  listAlarms(filter?: AlarmListFilter): Promise<AlarmView[]>;
  /** A device's history, newest first (by event time). */
  history(query: AlarmHistoryQuery): Promise<AlarmHistoryEntry[]>;
}
