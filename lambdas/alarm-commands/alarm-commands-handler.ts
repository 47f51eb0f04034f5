import { applyAlarmCommand, type AlarmCommandEnvelope, type ApplyAlarmCommandDeps } from '../app/apply-alarm-command.js';

export type { AlarmCommandEnvelope } from '../app/apply-alarm-command.js';
export type AlarmCommandsDeps = ApplyAlarmCommandDeps;

/**
 * The alarm-commands function, invoked by the command topic rule's Lambda action (asynchronously on
 * AWS; in-process locally) with the envelope the rule's SQL builds. An event that is not that envelope
 * cannot be answered (there is no device to answer on): it is logged and dropped, not retried.
 * A RetryableError propagates so that Lambda's asynchronous invocation retries the command.
 */
export function makeAlarmCommandsHandler(deps: AlarmCommandsDeps): (event: AlarmCommandEnvelope) => Promise<void> {
  return async (event) => {
    const problem = envelopeProblem(event);
    if (problem !== undefined) {
      deps.log.error('alarm command event is not the command rule envelope, dropped', { problem });
      return;
    }
    await applyAlarmCommand(event, deps);
  };
}

/** Why `event` is not an AlarmCommandEnvelope, or undefined when it is one. */
export function envelopeProblem(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'not an object';
  const e = event as Record<string, unknown>;
  for (const key of ['payload', 'deviceId', 'clientId'] as const) {
    if (typeof e[key] !== 'string') return `${key}: not a string`;
  }
  if (typeof e['receivedAt'] !== 'number' || !Number.isFinite(e['receivedAt'])) return 'receivedAt: not a number';
  return undefined;
}
