import { checkSilence, type CheckSilenceDeps, type SilenceCheckOutcome } from '../app/check-silence.js';
import { RetryableError } from '../domain/errors.js';

/** Devices named in the error message; the rest are counted. */
const MAX_NAMED_DEVICES = 20;

/**
 * The offline check, run on a schedule (EventBridge on AWS, a timer locally). The event carries
 * nothing we need: "now" comes from the clock in `deps`, so any event (or none) will do.
 *
 * Devices the run could not finish (a failed notification, a state that kept conflicting, a
 * throttled store) make it throw a RetryableError naming them, after the others are done: the
 * invocation shows as an error (and EventBridge's asynchronous invocation retries it), instead of
 * a failure hidden in a log line. Their transitions wait in the outbox, so nothing is lost either way.
 */
export function makeOfflineHandler(deps: CheckSilenceDeps): (event?: unknown) => Promise<SilenceCheckOutcome> {
  return async () => {
    const outcome = await checkSilence(deps);
    if (outcome.failed.length > 0) {
      const named = outcome.failed.slice(0, MAX_NAMED_DEVICES).join(', ');
      const more = outcome.failed.length > MAX_NAMED_DEVICES ? ` and ${outcome.failed.length - MAX_NAMED_DEVICES} more` : '';
      throw new RetryableError(`offline check: ${outcome.failed.length} of ${outcome.checked} devices not finished: ${named}${more}`);
    }
    return outcome;
  };
}
