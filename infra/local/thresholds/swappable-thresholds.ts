import type { ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import type { ThresholdsSource } from '../../../lambdas/ports/thresholds-source.js';

/**
 * The rules in force on one thread of the local stack, replaced as a whole when the thresholds file
 * changes. The use cases read it once per invocation, so a batch in flight finishes under the rules it
 * started with and the next one runs under the new ones.
 */
export class SwappableThresholds implements ThresholdsSource {
  constructor(private rules: ThresholdRules) {}

  current(): ThresholdRules {
    return this.rules;
  }

  replace(rules: ThresholdRules): void {
    this.rules = rules;
  }
}
