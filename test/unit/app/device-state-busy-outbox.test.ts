import { describe, expect, it } from 'vitest';
import { CapturingLog, CountingMetrics, FakeClock, InMemoryAlarmStateStore, RecordingNotifier } from '../../../lambdas/adapters/memory/index.js';
import { updateDevice, type DeviceStateDeps } from '../../../lambdas/app/device-state.js';
import type { AlarmEvent } from '../../../lambdas/domain/model.js';
import type { DeviceAlarmRecord } from '../../../lambdas/ports/alarm-state-store.js';
import { METRIC } from '../../../lambdas/ports/observability.js';
import { BASE_TIME } from '../../fixtures/domain/records.js';

const raisedByOtherWriter: AlarmEvent = {
  alarmId: 'd1/hot', deviceId: 'd1', ruleId: 'hot', metric: 'temperature', state: 'ALARM', previousState: 'OK', severity: 'critical',
  value: 90, threshold: 80, ts: BASE_TIME, action: null, by: null, note: null,
};
const ourEvent: AlarmEvent = { ...raisedByOtherWriter, state: 'OK', previousState: 'ALARM', value: 20, ts: BASE_TIME + 1_000 };

/** d1 as another writer just saved it: one transition in the outbox, its lease fresh. */
async function heldByAnotherWriter(states: InMemoryAlarmStateStore): Promise<DeviceAlarmRecord> {
  const held: DeviceAlarmRecord = { deviceId: 'd1', version: 1, lastSeen: BASE_TIME, state: { v: 1, rules: [] }, outbox: [{ ...raisedByOtherWriter, pendingSince: BASE_TIME }] };
  expect(await states.save(held, undefined)).toBe(true);
  return held;
}

function setup(maxConflictRetries: number) {
  const states = new InMemoryAlarmStateStore();
  const notifier = new RecordingNotifier();
  const metrics = new CountingMetrics();
  const log = new CapturingLog();
  const deps: DeviceStateDeps = { states, notifier, metrics, log, maxConflictRetries, clock: new FakeClock(BASE_TIME + 1_000) };
  return { states, notifier, metrics, log, deps };
}

const decideOurEvent = (record: DeviceAlarmRecord | undefined) => ({ state: { v: 1, rules: [] }, lastSeen: record?.lastSeen ?? BASE_TIME, events: [ourEvent] });

describe('updateDevice when another writer is still publishing the outbox', () => {
  it('leaves that outbox to its writer, reloads, and decides on the record the writer left', async () => {
    const { states, notifier, metrics, deps } = setup(3);
    const held = await heldByAnotherWriter(states);

    const update = updateDevice('d1', decideOurEvent, deps);
    // The other writer publishes its transition and clears the outbox while we wait.
    expect(await states.save({ ...held, version: 2, outbox: [] }, 1)).toBe(true);
    const outcome = await update;

    expect(outcome).toEqual({ ok: true, events: [ourEvent] });
    expect(notifier.events).toEqual([ourEvent]);
    // Version 3 saved our transition in the outbox, version 4 cleared it once published.
    expect(states.get('d1')).toMatchObject({ version: 4, outbox: [] });
    expect(metrics.total(METRIC.stateConflicts)).toBe(1);
  });

  it('gives the device back to be retried when the writer still holds the outbox after every reload', async () => {
    const { states, notifier, log, deps } = setup(1);
    await heldByAnotherWriter(states);

    const outcome = await updateDevice('d1', decideOurEvent, deps);

    expect(outcome).toEqual({ ok: false, why: 'conflicts', events: [] });
    expect(notifier.events).toEqual([]);
    expect(states.get('d1')?.outbox).toEqual([{ ...raisedByOtherWriter, pendingSince: BASE_TIME }]);
    expect(log.at('warn').map((entry) => entry.message)).toEqual(['alarm state kept conflicting, the device will be retried']);
  });
});

describe('updateDevice with an abandoned outbox', () => {
  it('publishes it, and when another writer saves first, reloads and decides on that writer\'s record', async () => {
    const { states, notifier, metrics, deps } = setup(3);
    const abandoned: DeviceAlarmRecord = { deviceId: 'd1', version: 1, lastSeen: BASE_TIME, state: { v: 1, rules: [] }, outbox: [{ ...raisedByOtherWriter, pendingSince: 0 }] };
    expect(await states.save(abandoned, undefined)).toBe(true);
    states.beforeNextSave(async (store) => {
      expect(await store.save({ ...abandoned, version: 2, lastSeen: BASE_TIME + 500, outbox: [] }, 1)).toBe(true);
    });
    const seenBy: (number | undefined)[] = [];

    const outcome = await updateDevice('d1', (record) => {
      seenBy.push(record?.lastSeen);
      return decideOurEvent(record);
    }, deps);

    expect(outcome).toEqual({ ok: true, events: [ourEvent] });
    expect(seenBy).toEqual([BASE_TIME + 500]);
    expect(notifier.events).toEqual([raisedByOtherWriter, ourEvent]);
    expect(metrics.total(METRIC.stateConflicts)).toBe(1);
    expect(states.get('d1')).toMatchObject({ version: 4, outbox: [], lastSeen: BASE_TIME + 500 });
  });
});
