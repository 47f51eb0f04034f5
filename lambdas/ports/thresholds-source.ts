import type { ThresholdRules } from '../domain/thresholds.js';

/**
 * Where a function reads the threshold rules in force. A fixed rule set (tests, a file read once), a
 * watched file (the local stack) or AWS AppConfig (the functions on AWS): the use cases read it once
 * per invocation, so one batch is decided under one rule set, and a change takes effect on the next.
 * A source that cannot refresh keeps answering with the last good rules; saying so (log, metric) is
 * the source's job, not the use case's.
 */
export interface ThresholdsSource {
  current(): ThresholdRules | Promise<ThresholdRules>;
}

/** The rules a use case is given: fixed, or a source read at the start of each invocation. */
export type RulesInForce = ThresholdRules | ThresholdsSource;

/** The rules in force now. */
export async function currentRules(rules: RulesInForce): Promise<ThresholdRules> {
  return 'current' in rules ? rules.current() : rules;
}
