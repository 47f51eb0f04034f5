/**
 * One IoT Events alarm model (what `aws iotevents describe-alarm-model` prints) to one of our threshold
 * rules that raises and clears where the alarm model would, or the reason it cannot be
 * (docs/migrating-from-iot-events.md, "What the converter does").
 *
 * - `alarmRule.simpleRule`: the input property's last path element is the metric; the operator is one of
 *   our six comparisons; the threshold is a number or, when it is an input reference, the metric form
 *   `{ "metric": ... }` (another metric of the same reading).
 * - `severity` through the severity map (severity-map.ts).
 * - `alarmCapabilities.acknowledgeFlow.enabled` to `latch`: with the flow on, an IoT Events alarm whose
 *   value returns to range unacknowledged is LATCHED until acknowledged, which is what `latch` does.
 * - `key` (one alarm per key value) to our one alarm per device, with a warning when it is not the id.
 * Notifications and alarm actions are reported with what to do instead (action-guidance.ts).
 */
import type { Severity } from '../../lambdas/domain/model.js';
import type { Bound, ComparisonKind } from '../../lambdas/domain/thresholds.js';
import { type ActionGuidance, guidanceFor } from './action-guidance.js';
import { type AlarmModel, type ComparisonOperator, alarmModelSchema, describeShapeProblem } from './alarm-model.js';
import { type InputReference, isDeviceIdAttribute, keyAttribute, parseInputReference, parseNumberLiteral } from './input-reference.js';
import { SEVERITY_WHEN_MISSING, type SeverityMap, formatSeverityMap, mapSeverity } from './severity-map.js';

/** Our six comparisons, by IoT Events comparison operator. */
export const COMPARISON_BY_OPERATOR = {
  GREATER: 'above',
  GREATER_OR_EQUAL: 'atOrAbove',
  LESS: 'below',
  LESS_OR_EQUAL: 'atOrBelow',
  EQUAL: 'equals',
  NOT_EQUAL: 'notEquals',
} as const satisfies Record<ComparisonOperator, ComparisonKind>;

/** A rule as it is written in the thresholds file. */
export interface ConvertedRule {
  readonly id: string;
  readonly metric: string;
  readonly when: { readonly [kind in ComparisonKind]?: Bound };
  readonly severity: Severity;
  readonly latch?: true;
}

/** An input path and the metric it became (printed, so devices can be told what to publish). */
export interface MetricMapping {
  readonly inputProperty: string;
  readonly metric: string;
}

interface OutcomeCommon {
  /** Facts about the conversion a user should know (the severity used, latch, the key). */
  readonly notes: readonly string[];
  /** Where the converted rule behaves differently from the alarm model. */
  readonly warnings: readonly string[];
  /** The model's notifications and alarm actions, not converted, with what to do instead. */
  readonly actions: readonly ActionGuidance[];
}

export type ModelConversion =
  | (OutcomeCommon & { readonly status: 'converted'; readonly rule: ConvertedRule; readonly metrics: readonly MetricMapping[] })
  | (OutcomeCommon & { readonly status: 'not-converted'; readonly reason: string });

export interface ConvertOptions {
  readonly severityMap: SeverityMap;
}

/** Collects notes and warnings while a model is read. */
class Findings {
  readonly notes: string[] = [];
  readonly warnings: string[] = [];
}

function notConverted(reason: string, findings: Findings, actions: readonly ActionGuidance[]): ModelConversion {
  return { status: 'not-converted', reason, notes: findings.notes, warnings: findings.warnings, actions };
}

function severityOf(model: AlarmModel, options: ConvertOptions, findings: Findings): { readonly severity: Severity } | { readonly problem: string } {
  if (model.severity === undefined) {
    findings.notes.push(`no severity in the model: converted as ${SEVERITY_WHEN_MISSING}`);
    return { severity: SEVERITY_WHEN_MISSING };
  }
  const severity = mapSeverity(options.severityMap, model.severity);
  const map = formatSeverityMap(options.severityMap);
  if (severity === undefined) return { problem: `severity ${model.severity} is not covered by the severity map ${map}` };
  findings.notes.push(`severity ${model.severity} -> ${severity} (severity map ${map})`);
  return { severity };
}

function boundOf(threshold: string, value: InputReference, findings: Findings): { bound: Bound; mapping?: MetricMapping } | string {
  const number = parseNumberLiteral(threshold);
  if (number !== undefined) return { bound: number };
  if (/^'.*'$/.test(threshold.trim()) || /^(true|false)$/.test(threshold.trim())) {
    return `threshold ${threshold.trim()} is a string or Boolean literal: our metrics are numbers`;
  }
  const reference = parseInputReference(threshold);
  if (typeof reference === 'string') {
    return `threshold ${reference}, nor a number; expressions and $variable references have no counterpart in our rules`;
  }
  if (reference.metric === value.metric) return `threshold "${threshold}" names the same metric as the input property (${value.metric}): the comparison would never change`;
  findings.notes.push(`threshold ${reference.text} -> the metric ${reference.metric} of the same reading (a reading without it does not evaluate the rule)`);
  if (reference.inputName !== value.inputName) {
    findings.warnings.push(
      `the threshold comes from input ${reference.inputName} and the value from input ${value.inputName}: here both must be metrics of one reading, so devices must send ${reference.metric} with ${value.metric}`,
    );
  }
  return { bound: { metric: reference.metric }, mapping: { inputProperty: reference.text, metric: reference.metric } };
}

function noteFlattenedPath(reference: InputReference, findings: Findings): void {
  if (reference.path.length > 1) {
    findings.notes.push(`${reference.text} -> metric ${reference.metric}: devices publish it as metrics.${reference.metric} (the path ${reference.path.join('.')} is flattened)`);
  }
}

function latchOf(model: AlarmModel, findings: Findings): boolean {
  const enabled = model.alarmCapabilities?.acknowledgeFlow?.enabled;
  if (enabled === true) {
    findings.notes.push('acknowledge flow on -> "latch": true (an alarm that returns to range unacknowledged stays LATCHED until acknowledged)');
  } else if (enabled === false) {
    findings.notes.push('acknowledge flow off -> no latch (the alarm returns to OK by itself when the value is back in range)');
  } else {
    findings.notes.push('no acknowledge flow setting in the model -> no latch; add "latch": true if its alarms waited for an acknowledgement');
  }
  return enabled === true;
}

function noteInitialization(model: AlarmModel, findings: Findings): void {
  const disabled = model.alarmCapabilities?.initializationConfiguration?.disabledOnInitialization;
  if (disabled === false) return;
  const why = disabled === true ? 'disabledOnInitialization is true' : 'no initialization setting, and AWS documents true as the default of disabledOnInitialization';
  findings.notes.push(
    `${why}: IoT Events created its alarms DISABLED until enabled; ours have no disabled start and evaluate from a device's first reading`,
  );
}

function noteKey(model: AlarmModel, findings: Findings): void {
  if (model.key === undefined) {
    findings.warnings.push('no key: IoT Events kept one alarm for every input of the model; here each device has its own alarm');
    return;
  }
  const attribute = keyAttribute(model.key);
  if (isDeviceIdAttribute(attribute)) {
    findings.notes.push(`key ${model.key} -> one alarm per device (our device id is the MQTT client id; make it the ${attribute} value)`);
    return;
  }
  findings.warnings.push(
    `key ${model.key} is not the device id: IoT Events kept one alarm per ${attribute} value, here there is one per device (two ${attribute} values from one device share an alarm)`,
  );
}

function noteStatus(model: AlarmModel, findings: Findings): void {
  if (model.status !== undefined && model.status !== 'ACTIVE') {
    findings.notes.push(`status ${model.status} in IoT Events: the model was not evaluating data (converted anyway)`);
  }
}

/**
 * Converts one alarm model (the parsed JSON of one DescribeAlarmModel response) into the rule `ruleId`.
 * Never throws: a model it cannot convert comes back as `not-converted` with the reason.
 */
export function convertAlarmModel(input: unknown, ruleId: string, options: ConvertOptions): ModelConversion {
  const findings = new Findings();
  const parsed = alarmModelSchema.safeParse(input);
  if (!parsed.success) return notConverted(`not a valid alarm model: ${describeShapeProblem(parsed.error)}`, findings, []);
  const model = parsed.data;
  const actions = guidanceFor(model, ruleId);
  const simpleRule = model.alarmRule.simpleRule;
  if (simpleRule === undefined) return notConverted('alarmRule has no simpleRule, the only rule an alarm model can have', findings, actions);

  const value = parseInputReference(simpleRule.inputProperty);
  if (typeof value === 'string') return notConverted(`inputProperty ${value}`, findings, actions);
  noteFlattenedPath(value, findings);
  const bound = boundOf(simpleRule.threshold, value, findings);
  if (typeof bound === 'string') return notConverted(bound, findings, actions);
  const severity = severityOf(model, options, findings);
  if ('problem' in severity) return notConverted(severity.problem, findings, actions);
  const latch = latchOf(model, findings);
  noteInitialization(model, findings);
  noteKey(model, findings);
  noteStatus(model, findings);

  const kind = COMPARISON_BY_OPERATOR[simpleRule.comparisonOperator];
  const rule: ConvertedRule = { id: ruleId, metric: value.metric, when: { [kind]: bound.bound }, severity: severity.severity, ...(latch ? { latch: true as const } : {}) };
  const metrics = [{ inputProperty: value.text, metric: value.metric }, ...(bound.mapping === undefined ? [] : [bound.mapping])];
  return { status: 'converted', rule, metrics, notes: findings.notes, warnings: findings.warnings, actions };
}
