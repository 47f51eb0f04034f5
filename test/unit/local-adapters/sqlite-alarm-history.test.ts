import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../lambdas/adapters/local/sqlite-schema.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { CapturingLog, CountingMetrics, FakeClock, RecordingCommandReplies } from '../../../lambdas/adapters/memory/index.js';
import { makeAlarmCommandsHandler } from '../../../lambdas/alarm-commands/alarm-commands-handler.js';
import { evaluateAlarms } from '../../../lambdas/app/evaluate-alarms.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';
import { BASE_TIME, makeRecord } from '../../fixtures/domain/records.js';
import { anAlarmEvent } from '../../contract/fixtures.js';
import { tempDir } from './temp-dir.js';

// The local alarm history and reader on a real store.db: commands in alarm_commands, transitions
// (with their cause) through the alarm log, states read back the way the engine reads them.

const rules = parseThresholds({
  rules: [
    { id: 'overheat', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, latch: true, severity: 'critical' },
    { id: 'battery-low', metric: 'battery', when: { below: 3.3 }, severity: 'warning' },
  ],
});

describe('SqliteAlarmHistory and SqliteAlarmReader', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteStore;
  let replies: RecordingCommandReplies;
  let deps: Parameters<typeof makeAlarmCommandsHandler>[0];

  beforeEach(() => {
    dir = tempDir();
    const clock = new FakeClock(BASE_TIME + 100_000);
    store = SqliteStore.open(join(dir.path, 'store.db'), { clock });
    replies = new RecordingCommandReplies();
    deps = {
      rules,
      states: store.alarmStates,
      notifier: store.alarmLog,
      history: store.alarmHistory,
      replies,
      clock,
      metrics: new CountingMetrics(),
      log: new CapturingLog(),
    };
  });
  afterEach(() => {
    store.close();
    dir.remove();
  });

  const read = (deviceId: string, at: number, metrics: Record<string, number>) =>
    evaluateAlarms([makeRecord({ deviceId, payload: { ts: BASE_TIME + at, metrics } })], deps);
  const command = (deviceId: string, body: object, at: number, by = 'operator-1') =>
    makeAlarmCommandsHandler(deps)({ payload: Buffer.from(JSON.stringify(body)).toString('base64'), deviceId, clientId: by, receivedAt: BASE_TIME + at });

  it('records each command once with who, when, note and outcome, refusals included', async () => {
    await read('d1', 0, { temperature: 90 });
    await command('d1', { action: 'acknowledge', ruleId: 'overheat', note: 'on my way', clientToken: 'c1' }, 1_000, 'alice');
    await command('d1', { action: 'acknowledge', ruleId: 'overheat', note: 'on my way', clientToken: 'c1' }, 1_000, 'alice');
    await command('d1', { action: 'enable', ruleId: 'overheat' }, 2_000, 'bob');

    expect(store.queryCommands({ deviceId: 'd1', order: 'asc' })).toEqual([
      {
        deviceId: 'd1', ruleId: 'overheat', action: 'acknowledge', by: 'alice', note: 'on my way', seconds: null, clientToken: 'c1',
        at: BASE_TIME + 1_000, outcome: 'accepted', reason: null, state: 'ACKNOWLEDGED', recordedAt: BASE_TIME + 100_000,
      },
      {
        deviceId: 'd1', ruleId: 'overheat', action: 'enable', by: 'bob', note: null, seconds: null, clientToken: null,
        at: BASE_TIME + 2_000, outcome: 'rejected', reason: 'cannot enable overheat: it is ACKNOWLEDGED, not DISABLED', state: 'ACKNOWLEDGED', recordedAt: BASE_TIME + 100_000,
      },
    ]);
  });

  it('keeps the cause of each transition, and a history of a device newest first, by rule', async () => {
    await read('d1', 0, { temperature: 90, battery: 3.0 });
    await command('d1', { action: 'acknowledge', ruleId: 'overheat', note: 'fan' }, 1_000);
    await read('d1', 2_000, { temperature: 70 });

    const history = await store.alarmReader(rules).history({ deviceId: 'd1', ruleId: 'overheat' });

    expect(history.map((e) => (e.kind === 'command' ? `command ${e.command.action}` : `${e.event.previousState}->${e.event.state} ${e.event.by ?? '-'} ${e.event.note ?? '-'}`))).toEqual([
      'ACKNOWLEDGED->OK - -',
      'ALARM->ACKNOWLEDGED operator-1 fan',
      'command acknowledge',
      'OK->ALARM - -',
    ]);
    expect(store.queryAlarmStates({ deviceId: 'd1' }).map((s) => [s.ruleId, s.state, s.action])).toEqual([
      ['battery-low', 'ALARM', null],
      ['overheat', 'OK', null],
    ]);
  });

  it('lists the lifecycle states from the alarm state itself, filtered by state', async () => {
    await read('d1', 0, { temperature: 90 });
    await read('d1', 1_000, { temperature: 70 });
    await read('d2', 0, { battery: 3.0 });
    await command('d2', { action: 'disable', ruleId: 'overheat', note: 'sensor out' }, 1_000, 'carol');

    const reader = store.alarmReader(rules);

    expect((await reader.listAlarms()).map((a) => `${a.alarmId} ${a.state} ${a.by ?? '-'} ${a.note ?? '-'}`)).toEqual([
      'd1/overheat LATCHED - -',
      'd2/overheat DISABLED carol sensor out',
      'd2/battery-low ALARM - -',
    ]);
    expect((await reader.listAlarms({ state: 'LATCHED' })).map((a) => a.alarmId)).toEqual(['d1/overheat']);
  });

  it('migrates a version 4 store keeping its alarms, then records an event whose threshold is null', async () => {
    const file = join(dir.path, 'v4.db');
    const v4 = new Database(file);
    v4.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT; INSERT INTO schema_version VALUES (4);');
    for (const migration of MIGRATIONS.slice(0, 4)) v4.exec(migration);
    v4.prepare(
      `INSERT INTO alarm_transitions (alarm_id, ts, state, previous_state, device_id, rule_id, metric, severity, value, threshold, recorded_at, action, by_client, note, reminder)
       VALUES ('d9/overheat', 1, 'ACKNOWLEDGED', 'ALARM', 'd9', 'overheat', 'temperature', 'critical', NULL, 80, 2, 'acknowledge', 'op', 'seen', 0)`,
    ).run();
    v4.prepare(
      `INSERT INTO alarm_current (alarm_id, device_id, rule_id, metric, state, previous_state, severity, value, threshold, ts, recorded_at, action, by_client, note)
       VALUES ('d9/overheat', 'd9', 'overheat', 'temperature', 'ACKNOWLEDGED', 'ALARM', 'critical', NULL, 80, 1, 2, 'acknowledge', 'op', 'seen')`,
    ).run();
    v4.close();

    const migrated = SqliteStore.open(file);
    try {
      await migrated.alarmLog.notify([
        { ...anAlarmEvent({ alarmId: 'd9/hotter', deviceId: 'd9', ruleId: 'hotter', state: 'SNOOZED', previousState: 'OK', value: null, threshold: null, ts: 5 }), action: 'snooze', by: 'op' },
      ]);

      expect(migrated.queryTransitions({ deviceId: 'd9' }).map((t) => [t.alarmId, t.state, t.threshold, t.by, t.note])).toEqual([
        ['d9/hotter', 'SNOOZED', null, 'op', null],
        ['d9/overheat', 'ACKNOWLEDGED', 80, 'op', 'seen'],
      ]);
      expect(migrated.queryAlarmStates({ deviceId: 'd9' }).map((a) => [a.alarmId, a.state, a.threshold])).toEqual([
        ['d9/hotter', 'SNOOZED', null],
        ['d9/overheat', 'ACKNOWLEDGED', 80],
      ]);
    } finally {
      migrated.close();
    }
  });

  it('migrates a version 1 store: old transitions read back with a null cause', () => {
    const file = join(dir.path, 'old.db');
    // A store exactly at version 1, as the previous release left it; open() applies migration 2.
    const v1 = new Database(file);
    v1.exec('CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT; INSERT INTO schema_version VALUES (1);');
    v1.exec(MIGRATIONS[0] as string);
    v1.prepare(
      `INSERT INTO alarm_transitions (alarm_id, ts, state, previous_state, device_id, rule_id, metric, severity, value, threshold, recorded_at)
       VALUES ('d9/overheat', 1, 'ALARM', 'OK', 'd9', 'overheat', 'temperature', 'critical', 90, 80, 2)`,
    ).run();
    v1.close();

    const migrated = SqliteStore.open(file);
    try {
      expect(migrated.queryTransitions({ deviceId: 'd9' })).toEqual([
        expect.objectContaining({ alarmId: 'd9/overheat', state: 'ALARM', action: null, by: null, note: null }),
      ]);
      expect(migrated.queryCommands()).toEqual([]);
    } finally {
      migrated.close();
    }
  });
});
