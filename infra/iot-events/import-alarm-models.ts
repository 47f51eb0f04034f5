/**
 * Every alarm model of a migration to one thresholds file: each model converted (convert-alarm-model.ts)
 * under a rule id derived from its name and unique in the file, each rule checked by our thresholds
 * schema on its own (a rule it refuses is reported, the others are kept), then the whole file checked
 * again before anyone writes it.
 */
import { InvariantError } from '../../lambdas/domain/errors.js';
import { safeParseThresholds } from '../../lambdas/domain/thresholds.js';
import { type ConvertOptions, type ConvertedRule, type ModelConversion, convertAlarmModel } from './convert-alarm-model.js';

/** Where a model came from: its file and, for a file holding an array, its index there. */
export interface ModelSource {
  readonly file: string;
  readonly index?: number;
}

export interface SourcedModel {
  readonly source: ModelSource;
  readonly model: unknown;
}

export type ModelReport = ModelConversion & { readonly source: ModelSource; readonly alarmModelName: string | undefined };

export interface ImportResult {
  readonly models: readonly ModelReport[];
  /** The thresholds file's contents: the converted rules, in input order. */
  readonly thresholds: { readonly rules: readonly ConvertedRule[] };
  /** Findings about the models together (one metric read from two input paths). */
  readonly warnings: readonly string[];
}

const RULE_ID_MAX = 64;

function nameOf(model: unknown): string | undefined {
  if (typeof model !== 'object' || model === null) return undefined;
  const name = (model as { alarmModelName?: unknown }).alarmModelName;
  return typeof name === 'string' ? name : undefined;
}

/** The alarm model's name (IoT Events allows [a-zA-Z0-9_-], up to 128) cut to our 64, made unique with -2, -3... */
function uniqueRuleId(name: string | undefined, position: number, taken: Set<string>): string {
  const base = (name?.replace(/[^A-Za-z0-9_.-]/g, '-') || `alarm-model-${position + 1}`).slice(0, RULE_ID_MAX);
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base.slice(0, RULE_ID_MAX - `-${n}`.length)}-${n}`;
  taken.add(id);
  return id;
}

/** A converted rule our schema refuses becomes a model not converted, with the schema's words. */
function checkedBySchema(conversion: ModelConversion): ModelConversion {
  if (conversion.status !== 'converted') return conversion;
  const result = safeParseThresholds({ rules: [conversion.rule] });
  if (result.success) return conversion;
  const { notes, warnings, actions } = conversion;
  return { status: 'not-converted', reason: `our thresholds schema refuses the rule: ${result.error.message}`, notes, warnings, actions };
}

function metricCollisions(models: readonly ModelReport[]): string[] {
  const sources = new Map<string, Set<string>>();
  for (const report of models) {
    if (report.status !== 'converted') continue;
    for (const mapping of report.metrics) {
      const paths = sources.get(mapping.metric) ?? new Set<string>();
      paths.add(mapping.inputProperty);
      sources.set(mapping.metric, paths);
    }
  }
  return [...sources]
    .filter(([, paths]) => paths.size > 1)
    .map(([metric, paths]) => `metric ${metric} is read from ${[...paths].join(' and ')}: here they are one metrics.${metric}, checked by every rule on it (scope rules meant for different devices with match.type)`);
}

/**
 * Converts the models in order. Never throws for a model: each is converted or reported with its reason.
 * @throws InvariantError if the rules together fail the schema (a bug: ids are unique and each rule passed).
 */
export function importAlarmModels(models: readonly SourcedModel[], options: ConvertOptions): ImportResult {
  const taken = new Set<string>();
  const reports: ModelReport[] = models.map(({ source, model }, position) => {
    const alarmModelName = nameOf(model);
    const conversion = checkedBySchema(convertAlarmModel(model, uniqueRuleId(alarmModelName, position, taken), options));
    return { ...conversion, source, alarmModelName };
  });
  const rules = reports.flatMap((report) => (report.status === 'converted' ? [report.rule] : []));
  const whole = safeParseThresholds({ rules });
  if (!whole.success) throw new InvariantError(`the converted rules fail the thresholds schema together: ${whole.error.message}`);
  return { models: reports, thresholds: { rules }, warnings: metricCollisions(reports) };
}
