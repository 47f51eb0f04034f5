import { describeAlarms } from '../../domain/alarm-engine.js';
import type { ThresholdRules } from '../../domain/thresholds.js';
import type { AlarmHistory, AlarmHistoryEntry } from '../../ports/alarm-history.js';
import type { AlarmHistoryQuery, AlarmListFilter, AlarmReader, AlarmView } from '../../ports/alarm-reader.js';
import type { AlarmStateStore } from '../../ports/alarm-state-store.js';

/** The history kept in memory, once per entry (the same key as the real stores use). */
export class InMemoryAlarmHistory implements AlarmHistory {
  readonly #entries = new Map<string, AlarmHistoryEntry>();

  async record(entries: readonly AlarmHistoryEntry[]): Promise<void> {
    for (const entry of entries) {
      const key = historyKey(entry);
      if (!this.#entries.has(key)) this.#entries.set(key, structuredClone(entry));
    }
  }

  /** Every entry, in the order first recorded. */
  get entries(): AlarmHistoryEntry[] {
    return [...this.#entries.values()];
  }
}

/** The read side over an in-memory state store (listing all of it) and history. */
export class InMemoryAlarmReader implements AlarmReader {
  constructor(
    private readonly states: AlarmStateStore & { listAll(): readonly { deviceId: string; state: unknown }[] },
    private readonly log: InMemoryAlarmHistory,
    private readonly rules: ThresholdRules,
  ) {}

  async listAlarms(filter: AlarmListFilter = {}): Promise<AlarmView[]> {
    return this.states
      .listAll()
      .filter((record) => filter.deviceId === undefined || record.deviceId === filter.deviceId)
      .flatMap((record) => describeAlarms(record.deviceId, record.state, this.rules))
      .filter((view) => filter.state === undefined || view.state === filter.state);
  }

  async history(query: AlarmHistoryQuery): Promise<AlarmHistoryEntry[]> {
    return this.log.entries
      .filter((entry) => entryDevice(entry) === query.deviceId && (query.ruleId === undefined || entryRule(entry) === query.ruleId))
      // Newest first; at one time the transition a command caused counts as the newer, as in the real stores.
      .sort((a, b) => entryTime(b) - entryTime(a) || kindOrder(a) - kindOrder(b))
      .slice(0, query.limit ?? 100);
  }
}

/**
 * What makes a history entry itself: a transition by (alarm, event time, states, cause), a command by
 * (device, time, operator, rule, action), as the DynamoDB history's sort key does. (store.db keys a
 * transition by alarm, time and state only: two transitions of one alarm at one time to one state
 * do not happen.)
 */
function historyKey(entry: AlarmHistoryEntry): string {
  if (entry.kind === 'transition') {
    const e = entry.event;
    return ['t', e.alarmId, e.ts, e.previousState, e.state, e.action ?? ''].join('\u0000');
  }
  const c = entry.command;
  return ['c', c.deviceId, c.at, c.by, c.ruleId ?? '', c.action ?? ''].join('\u0000');
}

function entryDevice(entry: AlarmHistoryEntry): string {
  return entry.kind === 'transition' ? entry.event.deviceId : entry.command.deviceId;
}

function entryRule(entry: AlarmHistoryEntry): string | null {
  return entry.kind === 'transition' ? entry.event.ruleId : entry.command.ruleId;
}

function kindOrder(entry: AlarmHistoryEntry): number {
  return entry.kind === 'transition' ? 0 : 1;
}

function entryTime(entry: AlarmHistoryEntry): number {
  return entry.kind === 'transition' ? entry.event.ts : entry.command.at;
}
