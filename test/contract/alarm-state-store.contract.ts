import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { AlarmStateStore, DeviceAlarmRecord } from '../../lambdas/ports/alarm-state-store.js';
import { anAlarmEvent, sortedBy, T0 } from './fixtures.js';

export interface AlarmStateHarness {
  readonly store: AlarmStateStore;
  dispose(): Promise<void>;
}

function aRecord(overrides: Partial<DeviceAlarmRecord> = {}): DeviceAlarmRecord {
  return {
    deviceId: 'sensor-0001',
    version: 1,
    lastSeen: T0,
    state: { rules: { overheat: { status: 'ALARM', streak: 3, since: T0 } }, newest: { ts: T0, seq: 7 } },
    outbox: [anAlarmEvent()],
    ...overrides,
  };
}

/** The AlarmStateStore port's contract (lambdas/ports/alarm-state-store.ts), run against every adapter. */
export function alarmStateStoreContract(name: string, make: () => Promise<AlarmStateHarness>): void {
  describe(`AlarmStateStore contract: ${name}`, () => {
    let h: AlarmStateHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('loads nothing for a device never saved', async () => {
      expect(await h.store.load('sensor-0001')).toBeUndefined();
    });

    it('creates a record when none exists and loads it back whole', async () => {
      const record = aRecord();

      const saved = await h.store.save(record, undefined);

      expect(saved).toBe(true);
      expect(await h.store.load('sensor-0001')).toEqual(record);
    });

    it('refuses a second create of the same device and keeps the first', async () => {
      const first = aRecord();
      await h.store.save(first, undefined);

      const saved = await h.store.save(aRecord({ lastSeen: T0 + 1, outbox: [] }), undefined);

      expect(saved).toBe(false);
      expect(await h.store.load('sensor-0001')).toEqual(first);
    });

    it('updates when the expected version is the stored one', async () => {
      await h.store.save(aRecord(), undefined);
      const next = aRecord({ version: 2, lastSeen: T0 + 60_000, state: { rules: {} }, outbox: [] });

      const saved = await h.store.save(next, 1);

      expect(saved).toBe(true);
      expect(await h.store.load('sensor-0001')).toEqual(next);
    });

    it('refuses an update with a stale version and keeps the newer record', async () => {
      await h.store.save(aRecord(), undefined);
      const winner = aRecord({ version: 2, lastSeen: T0 + 1 });
      await h.store.save(winner, 1);

      const saved = await h.store.save(aRecord({ version: 2, lastSeen: T0 + 2 }), 1);

      expect(saved).toBe(false);
      expect(await h.store.load('sensor-0001')).toEqual(winner);
    });

    it('refuses an update of a device that was never created', async () => {
      const saved = await h.store.save(aRecord({ version: 2 }), 1);

      expect(saved).toBe(false);
      expect(await h.store.load('sensor-0001')).toBeUndefined();
    });

    it('keeps devices apart', async () => {
      const a = aRecord();
      const b = aRecord({ deviceId: 'sensor-0002', outbox: [anAlarmEvent({ deviceId: 'sensor-0002', alarmId: 'sensor-0002/overheat' })] });

      await h.store.save(a, undefined);
      await h.store.save(b, undefined);

      expect(await h.store.load('sensor-0001')).toEqual(a);
      expect(await h.store.load('sensor-0002')).toEqual(b);
    });

    it('lists exactly the devices last seen strictly before the given time', async () => {
      const early = aRecord({ deviceId: 'early', lastSeen: T0 - 1 });
      const atCutoff = aRecord({ deviceId: 'at-cutoff', lastSeen: T0 });
      const late = aRecord({ deviceId: 'late', lastSeen: T0 + 1 });
      const earliest = aRecord({ deviceId: 'earliest', lastSeen: T0 - 300_000 });
      for (const r of [early, atCutoff, late, earliest]) await h.store.save(r, undefined);

      const listed = await h.store.listSeenBefore(T0);

      expect(sortedBy(listed, (r) => r.deviceId)).toEqual(sortedBy([early, earliest], (r) => r.deviceId));
    });

    it('lists a device by its newest lastSeen after an update', async () => {
      await h.store.save(aRecord({ lastSeen: T0 - 10 }), undefined);
      await h.store.save(aRecord({ version: 2, lastSeen: T0 + 10 }), 1);

      expect(await h.store.listSeenBefore(T0)).toEqual([]);
    });
  
    it('lists the devices whose wakeAt has come, and none without one', async () => {
      const due = aRecord({ deviceId: 'due', wakeAt: T0 - 1 });
      const dueNow = aRecord({ deviceId: 'due-now', wakeAt: T0 });
      const later = aRecord({ deviceId: 'later', wakeAt: T0 + 1 });
      const resting = aRecord({ deviceId: 'resting' });
      for (const r of [due, dueNow, later, resting]) await h.store.save(r, undefined);

      const listed = await h.store.listDueBy(T0);

      expect(sortedBy(listed, (r) => r.deviceId)).toEqual([due, dueNow]);
      expect(await h.store.load('later')).toEqual(later);
    });

    it('stops listing a device once a save drops its wakeAt', async () => {
      await h.store.save(aRecord({ wakeAt: T0 - 1 }), undefined);
      await h.store.save(aRecord({ version: 2 }), 1);

      expect(await h.store.listDueBy(T0)).toEqual([]);
      expect(await h.store.load('sensor-0001')).not.toHaveProperty('wakeAt');
    });
  });
}
