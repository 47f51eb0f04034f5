/**
 * An IoT rule with a Lambda action, locally: the rule's SQL evaluated by our IoT SQL, its output
 * object handed to a handler module in-process, the way AWS IoT invokes a function from a rule.
 *
 * What AWS does, and so what this does:
 * - the rule's output (the SELECT's object) is the function's event, unchanged;
 * - the invocation is asynchronous: the publisher's PUBACK does not wait for it, and nothing comes
 *   back to the publisher (a reply, if any, is the function's own publish);
 * - a function error is retried twice, then the event is dropped (AWS: one minute, then two minutes
 *   between attempts, then an on-failure destination or dead-letter queue if configured). Locally
 *   the waits are 1 s and 2 s, and a dropped event is logged with the event.
 * Sources: https://docs.aws.amazon.com/iot/latest/developerguide/lambda-rule-action.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
import type { Clock } from '../../lambdas/ports/clock.js';
import type { Log } from '../../lambdas/ports/observability.js';
import { systemClock } from '../../lambdas/ports/clock.js';
import { compileRule } from './iot-sql/index.js';
import type { RuleMessage } from './iot-sql/index.js';

export interface LambdaRuleActionOptions<E> {
  /** The rule's SQL. SQL outside our subset throws here, at start-up. */
  readonly sql: string;
  /** The function: resolves when it has finished with the event, rejects on a function error. */
  readonly invoke: (event: E) => Promise<void>;
  /** Which function, for the log. */
  readonly functionName: string;
  readonly log: Log;
  /** The rule's `timestamp()`. @default systemClock */
  readonly clock?: Clock;
  /** Waits before the retries after a function error. @default [1000, 2000] (AWS: one and two minutes) */
  readonly retryDelaysMs?: readonly number[];
}

export interface LambdaRuleAction {
  /**
   * Evaluates the rule for one message the broker routed (its client id the publisher's authenticated
   * one); when it matches, invokes the function asynchronously. The rule's `timestamp()` is the
   * clock's now. Returns whether it matched.
   */
  route(message: Omit<RuleMessage, 'timestamp'>): boolean;
  /** Resolves once every invocation started so far has finished (succeeded or given up). */
  settled(): Promise<void>;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 2_000] as const;

export function makeLambdaRuleAction<E>(options: LambdaRuleActionOptions<E>): LambdaRuleAction {
  const { log, functionName } = options;
  const rule = compileRule(options.sql);
  const clock = options.clock ?? systemClock;
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const running = new Set<Promise<void>>();

  const invokeWithRetries = async (event: E): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await options.invoke(event);
        return;
      } catch (error) {
        const wait = delays[attempt];
        if (wait === undefined) {
          log.error('rule action: function failed on every attempt; event dropped', { functionName, attempts: attempt + 1, error: String(error), event });
          return;
        }
        log.warn('rule action: function failed; retrying', { functionName, attempt: attempt + 1, retryInMs: wait, error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
      }
    }
  };

  return {
    route(message) {
      const result = rule.evaluate({ ...message, timestamp: clock.now() });
      if (!result.matched) return false;
      const run = invokeWithRetries(result.output as E);
      running.add(run);
      void run.finally(() => running.delete(run));
      return true;
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
