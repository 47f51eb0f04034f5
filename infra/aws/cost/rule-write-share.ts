/**
 * How much of a fleet the thresholds make write its alarm state on every reading. Most rules change a
 * device's state only on a transition, so the state is written once per lastSeen bound; a rule that
 * keeps per-reading state (risesBy and fallsBy keep a window of readings; unchangedFor the value held
 * and since when, which moves whenever the value does) changes it on most readings.
 */
import type { RuleKind, ThresholdRules } from '../../../lambdas/domain/thresholds.js';
import { CostInputError } from './cost-model.js';

const PER_READING_STATE_KINDS: ReadonlySet<RuleKind> = new Set(['risesBy', 'fallsBy', 'unchangedFor']);

/**
 * The share of devices (0 to 1) under at least one rule with per-reading state, given the fleet's
 * device types and their weights. A rule without `match.type` applies to every device; a rule scoped
 * to one `match.deviceId` is one device, which does not move a fleet's bill and is not counted.
 * @example perReadingStateShare(rules, new Map([['env-sensor', 1], ['cold-chain', 1], ['vehicle', 1]]))
 */
export function perReadingStateShare(rules: ThresholdRules, deviceTypeWeights: ReadonlyMap<string, number>): number {
  const total = [...deviceTypeWeights.values()].reduce((sum, weight) => sum + weight, 0);
  if (total <= 0) return 0;
  const types = new Set<string>();
  for (const rule of rules.rules) {
    if (!PER_READING_STATE_KINDS.has(rule.kind)) continue;
    if (rule.match?.type === undefined) {
      if (rule.match?.deviceId === undefined) return 1;
      continue;
    }
    types.add(rule.match.type);
  }
  let matched = 0;
  for (const type of types) matched += deviceTypeWeights.get(type) ?? 0;
  return matched / total;
}

/**
 * `--device-types env-sensor=2,vehicle=1`: device types and their weights (shares of the fleet).
 * @throws CostInputError with a one-line reason for a malformed list.
 */
export function parseDeviceTypeWeights(text: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of text.split(',')) {
    const match = /^\s*([A-Za-z0-9_.:-]{1,64})\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (match === null) throw new CostInputError(`expected type=weight pairs separated by commas, got ${JSON.stringify(part.trim())}`);
    const [, type, weight] = match as unknown as [string, string, string];
    if (weights.has(type)) throw new CostInputError(`device type ${type} given twice`);
    weights.set(type, Number(weight));
  }
  if ([...weights.values()].every((weight) => weight === 0)) throw new CostInputError('at least one device type needs a weight above 0');
  return weights;
}
