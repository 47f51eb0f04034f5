import type Database from 'better-sqlite3';
import type { AlarmEvent } from '../../domain/model.js';
import type { AlarmNotifier } from '../../ports/alarm-notifier.js';
import type { Clock } from '../../ports/clock.js';
import type { WriteGroup } from './write-group.js';

/**
 * An alarm notifier that records every transition in the local store (`alarm_transitions`), and keeps
 * each alarm's newest transition in `alarm_current`: what `npm run query -- alarms` shows. A transition
 * is identified by (alarmId, ts, state): the outbox republishes at least once, the log keeps it once.
 * A transition older than the alarm's current one (republished late) is logged but does not move the
 * current state back. With SqliteAlarmHistory (the commands) it is the local alarm history.
 */
export class SqliteAlarmLog implements AlarmNotifier {
  private readonly insertTransition: Database.Statement;
  private readonly upsertCurrent: Database.Statement;
  private readonly recordAll: (events: readonly AlarmEvent[], at: number) => void;

  constructor(
    db: Database.Database,
    private readonly clock: Clock,
    private readonly writes: WriteGroup,
  ) {
    this.insertTransition = db.prepare(
      `INSERT INTO alarm_transitions
         (alarm_id, ts, state, previous_state, device_id, rule_id, metric, severity, value, threshold, recorded_at,
          action, by_client, note, reminder)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (alarm_id, ts, state) DO NOTHING`,
    );
    this.upsertCurrent = db.prepare(
      `INSERT INTO alarm_current
         (alarm_id, ts, state, previous_state, device_id, rule_id, metric, severity, value, threshold, recorded_at,
          action, by_client, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (alarm_id) DO UPDATE SET
         ts = excluded.ts, state = excluded.state, previous_state = excluded.previous_state,
         rule_id = excluded.rule_id, metric = excluded.metric, severity = excluded.severity,
         value = excluded.value, threshold = excluded.threshold, recorded_at = excluded.recorded_at,
         action = excluded.action, by_client = excluded.by_client, note = excluded.note
       WHERE excluded.ts >= alarm_current.ts`,
    );
    this.recordAll = db.transaction((events: readonly AlarmEvent[], at: number) => {
      for (const e of events) {
        const values = [
          e.alarmId, e.ts, e.state, e.previousState, e.deviceId, e.ruleId,
          e.metric, e.severity, e.value, e.threshold, at, e.action, e.by, e.note,
        ];
        // Only a transition seen for the first time may move the current state; a reminder never does
        // (the alarm has been in ALARM since its raise, not since the reminder).
        const inserted = this.insertTransition.run([...values, e.reminder === true ? 1 : 0]).changes === 1;
        if (inserted && e.reminder !== true) this.upsertCurrent.run(values);
      }
    });
  }

  /** Records `events` in one transaction; a transient SQLite failure throws RetryableError. */
  async notify(events: readonly AlarmEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.writes.run('store.db alarm_transitions write', () => this.recordAll(events, this.clock.now()));
  }
}
