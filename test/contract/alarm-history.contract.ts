import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyCommand, applyReadings } from '../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent } from '../../lambdas/domain/model.js';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import type { AlarmCommandRecord, AlarmHistory, AlarmHistoryEntry } from '../../lambdas/ports/alarm-history.js';
import type { AlarmReader } from '../../lambdas/ports/alarm-reader.js';
import type { AlarmStateStore } from '../../lambdas/ports/alarm-state-store.js';
import { T0 } from './fixtures.js';

/** The rules every harness's reader is built with. */
export const HISTORY_CONTRACT_RULES = parseThresholds({
  rules: [
    { id: 'overheat', metric: 'temperature', when: { above: 80 }, latch: true, severity: 'critical' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' },
  ],
});

export interface AlarmHistoryHarness {
  readonly history: AlarmHistory;
  /** Built with HISTORY_CONTRACT_RULES over `states` and `history`. */
  readonly reader: AlarmReader;
  readonly states: AlarmStateStore;
  dispose(): Promise<void>;
}

function transition(overrides: Partial<AlarmEvent> & Pick<AlarmEvent, 'ts'>): AlarmEvent {
  return {
    alarmId: 'd1/overheat', deviceId: 'd1', ruleId: 'overheat', metric: 'temperature', state: 'ALARM', previousState: 'OK',
    severity: 'critical', value: 90, threshold: 80, action: null, by: null, note: null, ...overrides,
  };
}

function command(overrides: Partial<AlarmCommandRecord> & Pick<AlarmCommandRecord, 'at'>): AlarmCommandRecord {
  return {
    deviceId: 'd1', ruleId: 'overheat', action: 'acknowledge', by: 'operator-1', note: 'on it', seconds: null, clientToken: 'c-1',
    outcome: 'accepted', reason: null, state: 'ACKNOWLEDGED', ...overrides,
  };
}

const describeEntry = (e: AlarmHistoryEntry): string =>
  e.kind === 'command' ? `command ${e.command.ruleId} ${e.command.action} ${e.command.outcome}` : `${e.event.ruleId} ${e.event.previousState}->${e.event.state}${e.event.reminder === true ? ' reminder' : ''}`;

/** The AlarmHistory and AlarmReader ports' contract, run against every adapter pair. */
export function alarmHistoryContract(name: string, make: () => Promise<AlarmHistoryHarness>): void {
  describe(`AlarmHistory + AlarmReader contract: ${name}`, () => {
    let h: AlarmHistoryHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.dispose();
    });

    it('gives a device its history newest first, the transition a command caused before the command at one time', async () => {
      await h.history.record([{ kind: 'transition', event: transition({ ts: T0 }) }]);
      await h.history.record([
        { kind: 'command', command: command({ at: T0 + 1_000 }) },
        { kind: 'transition', event: transition({ ts: T0 + 1_000, previousState: 'ALARM', state: 'ACKNOWLEDGED', value: null, action: 'acknowledge', by: 'operator-1', note: 'on it' }) },
      ]);
      await h.history.record([{ kind: 'transition', event: transition({ ts: T0 + 2_000, state: 'ALARM', previousState: 'ALARM', action: 'reminder', reminder: true }) }]);

      const entries = await h.reader.history({ deviceId: 'd1' });

      expect(entries.map(describeEntry)).toEqual([
        'overheat ALARM->ALARM reminder',
        'overheat ALARM->ACKNOWLEDGED',
        'command overheat acknowledge accepted',
        'overheat OK->ALARM',
      ]);
      expect(entries[1]).toEqual({ kind: 'transition', event: expect.objectContaining({ action: 'acknowledge', by: 'operator-1', note: 'on it' }) as unknown });
      expect(entries[2]).toEqual({ kind: 'command', command: command({ at: T0 + 1_000 }) });
    });

    it('keeps an entry recorded twice once', async () => {
      const entries: AlarmHistoryEntry[] = [
        { kind: 'transition', event: transition({ ts: T0 }) },
        { kind: 'command', command: command({ at: T0 + 1, outcome: 'rejected', reason: 'cannot acknowledge overheat: it is OK', state: 'OK' }) },
      ];

      await h.history.record(entries);
      await h.history.record(entries);

      expect(await h.reader.history({ deviceId: 'd1' })).toHaveLength(2);
    });

    it('filters by rule, limits to the newest, and keeps devices apart', async () => {
      await h.history.record([
        { kind: 'transition', event: transition({ ts: T0 }) },
        { kind: 'transition', event: transition({ ts: T0 + 1, alarmId: 'd1/battery-low', ruleId: 'battery-low', metric: 'battery' }) },
        { kind: 'transition', event: transition({ ts: T0 + 2, alarmId: 'd2/overheat', deviceId: 'd2' }) },
        { kind: 'command', command: command({ at: T0 + 3, ruleId: null, action: null, note: null, clientToken: null, outcome: 'rejected', reason: 'payload: not JSON', state: null }) },
      ]);

      expect((await h.reader.history({ deviceId: 'd1', ruleId: 'overheat' })).map(describeEntry)).toEqual(['overheat OK->ALARM']);
      expect((await h.reader.history({ deviceId: 'd1', limit: 2 })).map(describeEntry)).toEqual(['command null null rejected', 'battery-low OK->ALARM']);
      expect((await h.reader.history({ deviceId: 'd2' })).map(describeEntry)).toEqual(['overheat OK->ALARM']);
      expect(await h.reader.history({ deviceId: 'nobody' })).toEqual([]);
    });

    it('lists the alarms not at rest from the stored state, by state and device', async () => {
      const rules = HISTORY_CONTRACT_RULES;
      const raised = applyReadings({ deviceId: 'd1', state: undefined, readings: [{ deviceId: 'd1', ts: T0, metrics: { temperature: 90, battery: 3 }, receivedAt: T0 }], rules });
      const acked = applyCommand({ deviceId: 'd1', state: raised.state, rules, command: { action: 'acknowledge', ruleId: 'overheat', note: 'fan' }, by: 'alice', at: T0 + 1 });
      if (acked.outcome !== 'accepted') throw new Error('the acknowledge must apply');
      const resting = applyReadings({ deviceId: 'd2', state: undefined, readings: [{ deviceId: 'd2', ts: T0, metrics: { temperature: 20 }, receivedAt: T0 }], rules });
      await h.states.save({ deviceId: 'd1', version: 1, lastSeen: T0, state: acked.state, outbox: [] }, undefined);
      await h.states.save({ deviceId: 'd2', version: 1, lastSeen: T0, state: resting.state, outbox: [] }, undefined);

      expect(await h.reader.listAlarms()).toEqual([
        { alarmId: 'd1/overheat', deviceId: 'd1', ruleId: 'overheat', severity: 'critical', state: 'ACKNOWLEDGED', since: T0, by: 'alice', note: 'fan', snoozedUntil: null },
        { alarmId: 'd1/battery-low', deviceId: 'd1', ruleId: 'battery-low', severity: 'warning', state: 'ALARM', since: T0, by: null, note: null, snoozedUntil: null },
      ]);
      expect((await h.reader.listAlarms({ state: 'ALARM' })).map((a) => a.alarmId)).toEqual(['d1/battery-low']);
      expect(await h.reader.listAlarms({ deviceId: 'd2' })).toEqual([]);
    });
  });
}
