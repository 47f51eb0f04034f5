import type { AlarmEvent, Reading, RecordRef, RejectedMessage } from '../../lambdas/domain/model.js';
import { alarmEvent, reading, recordRef, rejectedMessage } from '../fixtures/aws/readings.js';

/** Factories for the contract suites: the shared ones, with times counted from T0. */
export const T0 = 1_764_028_800_000;

export function aReading(overrides: Partial<Reading> = {}): Reading {
  return reading({ ts: T0, seq: 1, receivedAt: T0 + 15, ...overrides });
}

export function aRecordRef(overrides: Partial<RecordRef> = {}): RecordRef {
  return recordRef({ sequenceNumber: '49590338271490256608559692538361571095921575989136588802', approximateArrivalTimestamp: T0 + 20, ...overrides });
}

export function aRejectedMessage(overrides: Partial<RejectedMessage> = {}): RejectedMessage {
  return rejectedMessage({ record: aRecordRef(), rejectedAt: T0 + 30, ...overrides });
}

export function anAlarmEvent(overrides: Partial<AlarmEvent> = {}): AlarmEvent {
  return alarmEvent({ ts: T0, ...overrides });
}

/** Sorts a copy by `key`, so suites compare stores whose read order differs. */
export function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
