/**
 * Use case of the alarm-commands function: one operator command, decoded, applied to the device's alarm
 * state under the same write discipline as the alarms consumer and the offline check (conditional
 * write, outbox, lease: device-state.ts), recorded in the history and answered on accepted/rejected
 * (docs/architecture.md, "Alarm commands").
 */
import { applyCommand, nextWakeAt } from '../domain/alarm-engine.js';
import type { AlarmCommand } from '../domain/alarm-command.js';
import { parseAlarmCommand } from '../domain/alarm-command.js';
import { RetryableError } from '../domain/errors.js';
import type { AlarmStatus } from '../domain/model.js';
import { TELEMETRY_LIMITS } from '../domain/model.js';
import type { AlarmHistory } from '../ports/alarm-history.js';
import type { AlarmNotifier } from '../ports/alarm-notifier.js';
import type { AlarmStateStore } from '../ports/alarm-state-store.js';
import type { Clock } from '../ports/clock.js';
import type { CommandOutcome, CommandReplies, CommandReplyBody } from '../ports/command-replies.js';
import type { Log, Metrics } from '../ports/observability.js';
import { METRIC } from '../ports/observability.js';
import { updateDevice } from './device-state.js';
import type { RulesInForce } from '../ports/thresholds-source.js';
import { currentRules } from '../ports/thresholds-source.js';

/**
 * What the IoT rule's Lambda action delivers for pipeline.commandRule's SQL:
 * `SELECT encode(*, 'base64') AS payload, topic(4) AS deviceId, clientid() AS clientId, timestamp() AS receivedAt`.
 */
export interface AlarmCommandEnvelope {
  /** The command's bytes, base64. */
  readonly payload: string;
  /** The last topic level of cmd/fleet/alarms/{deviceId}. */
  readonly deviceId: string;
  /** The authenticated MQTT client id of the publisher: who gave the command. */
  readonly clientId: string;
  /** When the rules engine received it, epoch ms. */
  readonly receivedAt: number;
}

export interface ApplyAlarmCommandDeps {
  /** Read once per invocation (ports/thresholds-source.ts). */
  readonly rules: RulesInForce;
  readonly states: AlarmStateStore;
  /** The same notifier as the alarms consumer's (it records transitions in the history too). */
  readonly notifier: AlarmNotifier;
  /** Records the command itself. */
  readonly history: AlarmHistory;
  readonly replies: CommandReplies;
  readonly metrics: Metrics;
  readonly log: Log;
  /** For the outbox lease. @default systemClock */
  readonly clock?: Clock;
  /** @default 5 */
  readonly maxConflictRetries?: number;
  readonly outboxLeaseMs?: number;
}

/** How the command ended, as replied. */
export interface AlarmCommandResult {
  readonly outcome: CommandOutcome;
  readonly body: CommandReplyBody;
}

/**
 * Applies one command and answers it.
 * - A malformed command, an unknown rule, or one that does not apply is answered on `rejected` with
 *   a reason and changes nothing.
 * - A command applied again (a retried invocation) is answered `accepted` again without a second event.
 * - A state that keeps conflicting, a failed publish of the transition or a failed history write throws
 *   a RetryableError before any reply: the invocation is retried and the retry finds the command
 *   already applied (or applies it), publishes what waits in the outbox, and answers.
 */
export async function applyAlarmCommand(envelope: AlarmCommandEnvelope, deps: ApplyAlarmCommandDeps): Promise<AlarmCommandResult> {
  const { deviceId, clientId: by, receivedAt: at } = envelope;
  const decoded = decodeCommand(envelope);
  if (!decoded.success) {
    return finish(envelope, deps, {
      outcome: 'rejected',
      body: { ...token(decoded.clientToken), deviceId, ruleId: decoded.ruleId ?? null, action: decoded.action ?? null, reason: decoded.reason },
    }, undefined);
  }
  const { command } = decoded;
  const rules = await currentRules(deps.rules);
  const answer = (outcome: CommandOutcome, extra: { state?: AlarmStatus; reason?: string }): AlarmCommandResult => ({
    outcome,
    body: { ...token(command.clientToken), deviceId, ruleId: command.ruleId, action: command.action, ...extra },
  });

  // Set by `decide` on every path; updateDevice answers `ok` only after calling it.
  let result!: AlarmCommandResult;
  const outcome = await updateDevice(
    deviceId,
    (record) => {
      if (record === undefined) {
        result = answer('rejected', { reason: `device ${deviceId} has no alarm state yet (it has sent no reading)` });
        return undefined;
      }
      const applied = applyCommand({ deviceId, state: record.state, rules, command, by, at });
      if (applied.reset) deps.log.warn('stored alarm state unreadable, started afresh', { deviceId });
      if (applied.outcome === 'rejected') {
        result = answer('rejected', { ...(applied.status === undefined ? {} : { state: applied.status }), reason: applied.reason });
        return undefined;
      }
      result = answer('accepted', { state: applied.status });
      if (applied.duplicate) return undefined;
      return { state: applied.state, lastSeen: record.lastSeen, events: applied.events, wakeAt: nextWakeAt(applied.state, rules) };
    },
    { ...deps, maxConflictRetries: deps.maxConflictRetries ?? 5 },
  );
  if (!outcome.ok) {
    // Saved but not published, or not saved at all: either way the retry settles it (see above).
    throw new RetryableError(`alarm command ${command.action} ${deviceId}/${command.ruleId} by ${by}: ${outcome.why}`);
  }
  return finish(envelope, deps, result, command);
}

/** Records the command, counts it, and answers it. */
async function finish(
  envelope: AlarmCommandEnvelope,
  deps: ApplyAlarmCommandDeps,
  result: AlarmCommandResult,
  command: AlarmCommand | undefined,
): Promise<AlarmCommandResult> {
  const { body, outcome } = result;
  await deps.history.record([
    {
      kind: 'command',
      command: {
        deviceId: envelope.deviceId,
        ruleId: body.ruleId,
        action: body.action,
        by: envelope.clientId,
        note: command?.note ?? null,
        seconds: command?.seconds ?? null,
        clientToken: body.clientToken ?? null,
        at: envelope.receivedAt,
        outcome,
        reason: body.reason ?? null,
        state: body.state ?? null,
      },
    },
  ]);
  deps.metrics.count(METRIC.alarmCommands, 1, { name: 'outcome', value: outcome });
  deps.log.info('alarm command', { deviceId: envelope.deviceId, by: envelope.clientId, outcome, ruleId: body.ruleId, action: body.action, reason: body.reason });
  await deps.replies.publishReply(envelope.deviceId, outcome, body);
  return result;
}

type Decoded =
  | { readonly success: true; readonly command: AlarmCommand }
  | { readonly success: false; readonly reason: string; readonly ruleId?: string; readonly action?: string; readonly clientToken?: string };

function decodeCommand(envelope: AlarmCommandEnvelope): Decoded {
  if (!TELEMETRY_LIMITS.deviceId.test(envelope.deviceId)) return { success: false, reason: 'topic: the deviceId must be 1 to 128 of [A-Za-z0-9_:-]' };
  if (envelope.clientId === '') return { success: false, reason: 'the publisher has no client id' };
  const parsed = parseAlarmCommand(Buffer.from(envelope.payload, 'base64'));
  return parsed.success ? parsed : { success: false, ...parsed.refusal };
}

function token(clientToken: string | undefined): { clientToken?: string } {
  return clientToken === undefined ? {} : { clientToken };
}
