import type { AlarmEvent, Reading, RecordRef, RejectedMessage } from '../../lambdas/domain/model.js';

/** Factories for the contract suites: valid values, overridable per test. */
export const T0 = 1_764_028_800_000;

export function aReading(overrides: Partial<Reading> = {}): Reading {
  return {
    deviceId: 'sensor-0001',
    ts: T0,
    seq: 1,
    type: 'env-sensor',
    metrics: { temperature: 22.4, humidity: 41, battery: 3.61 },
    receivedAt: T0 + 15,
    ...overrides,
  };
}

export function aRecordRef(overrides: Partial<RecordRef> = {}): RecordRef {
  return {
    shardId: 'shardId-000000000000',
    sequenceNumber: '49590338271490256608559692538361571095921575989136588802',
    partitionKey: 'sensor-0001',
    approximateArrivalTimestamp: T0 + 20,
    ...overrides,
  };
}

export function aRejectedMessage(overrides: Partial<RejectedMessage> = {}): RejectedMessage {
  return {
    reason: 'metrics.temperature: not a finite number',
    stage: 'decode',
    deviceId: 'sensor-0001',
    topic: 'dt/fleet/sensor-0001/telemetry',
    payload: Buffer.from('{"metrics":{"temperature":"hot"}}').toString('base64'),
    record: aRecordRef(),
    rejectedAt: T0 + 30,
    ...overrides,
  };
}

export function anAlarmEvent(overrides: Partial<AlarmEvent> = {}): AlarmEvent {
  return {
    alarmId: 'sensor-0001/overheat',
    deviceId: 'sensor-0001',
    ruleId: 'overheat',
    metric: 'temperature',
    state: 'ALARM',
    previousState: 'OK',
    severity: 'critical',
    value: 83.1,
    threshold: 80,
    ts: T0,
    ...overrides,
  };
}

/** Sorts a copy by `key`, so suites compare stores whose read order differs. */
export function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
