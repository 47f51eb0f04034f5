import type { AlarmEvent, AlarmStatus } from '../domain/model.js';
import type { CommandOutcome } from './command-replies.js';

/** One command as received and decided: who, when, what, with which note, and how it ended. */
export interface AlarmCommandRecord {
  readonly deviceId: string;
  /** Null when the command was too malformed to name one. */
  readonly ruleId: string | null;
  readonly action: string | null;
  /** The operator's authenticated MQTT client id. */
  readonly by: string;
  readonly note: string | null;
  readonly seconds: number | null;
  readonly clientToken: string | null;
  /** When the rules engine received it, epoch ms (the command's event time). */
  readonly at: number;
  readonly outcome: CommandOutcome;
  readonly reason: string | null;
  /** The alarm's state after the command, when known. */
  readonly state: AlarmStatus | null;
}

/** What the history keeps: every transition (reminders included) and every command. */
export type AlarmHistoryEntry =
  | { readonly kind: 'transition'; readonly event: AlarmEvent }
  | { readonly kind: 'command'; readonly command: AlarmCommandRecord };

/**
 * Keeps the alarm history (a DynamoDB table with a TTL on AWS, store.db locally). Recording the same
 * entry twice keeps it once: transitions come through the outbox (published at least once) and a
 * retried command records its decision again. A transient failure throws a RetryableError.
 */
export interface AlarmHistory {
  record(entries: readonly AlarmHistoryEntry[]): Promise<void>;
}
