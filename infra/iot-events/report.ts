/**
 * The conversion report of `npm run import-iot-events`: for each model, converted (the rule, the
 * metric mapping, notes and warnings) or not (the reason), and what each notification and alarm action
 * targeted with how to get the same here. As text for people, as one JSON object for `--json`.
 */
import type { ImportResult, ModelReport } from './import-alarm-models.js';
import type { SeverityMap } from './severity-map.js';
import { formatSeverityMap } from './severity-map.js';

export interface ReportContext {
  readonly severityMap: SeverityMap;
  /** Where the thresholds file was written, or undefined (printed on stdout, or nothing converted). */
  readonly out: string | undefined;
}

function convertedCount(result: ImportResult): number {
  return result.models.filter((report) => report.status === 'converted').length;
}

function sourceLabel(report: ModelReport): string {
  const where = report.source.index === undefined ? report.source.file : `${report.source.file} [${report.source.index}]`;
  return `${report.alarmModelName ?? '(no name)'} (${where})`;
}

function modelLines(report: ModelReport): string[] {
  const lines =
    report.status === 'converted'
      ? [
          `converted      ${sourceLabel(report)} -> rule ${report.rule.id}`,
          ...report.metrics.map((mapping) => `  metric       ${mapping.inputProperty} -> ${mapping.metric}`),
          `  rule         ${JSON.stringify(report.rule)}`,
        ]
      : [`NOT converted  ${sourceLabel(report)}: ${report.reason}`];
  return [
    ...lines,
    ...report.notes.map((note) => `  note         ${note}`),
    ...report.warnings.map((warning) => `  warning      ${warning}`),
    ...report.actions.map((action) => `  action       ${action.from}: ${action.target} (not converted)\n               -> ${action.howHere}`),
  ];
}

/** The report as text, one block per model, a summary first and where the rules went last. */
export function formatReport(result: ImportResult, context: ReportContext): string {
  const converted = convertedCount(result);
  const total = result.models.length;
  const summary = `Converted ${converted} of ${total} alarm model${total === 1 ? '' : 's'} (severity map ${formatSeverityMap(context.severityMap)}).`;
  const blocks = result.models.map((report) => modelLines(report).join('\n'));
  const where =
    converted === 0
      ? 'Nothing converted: no thresholds file written.'
      : context.out === undefined
        ? `${converted} rule${converted === 1 ? '' : 's'} on stdout (thresholds file format).`
        : `Wrote ${converted} rule${converted === 1 ? '' : 's'} to ${context.out}.`;
  const notConverted = result.models.filter((report) => report.status === 'not-converted').map((report) => report.alarmModelName ?? '(no name)');
  return [
    summary,
    '',
    ...blocks.flatMap((block) => [block, '']),
    ...result.warnings.map((warning) => `warning: ${warning}`),
    ...(notConverted.length > 0 ? [`Not converted: ${notConverted.join(', ')}.`] : []),
    where,
  ].join('\n');
}

function modelJson(report: ModelReport): Record<string, unknown> {
  const common = {
    file: report.source.file,
    ...(report.source.index === undefined ? {} : { index: report.source.index }),
    alarmModelName: report.alarmModelName ?? null,
    status: report.status,
  };
  const outcome = report.status === 'converted' ? { ruleId: report.rule.id, rule: report.rule, metrics: report.metrics } : { reason: report.reason };
  return { ...common, ...outcome, notes: report.notes, warnings: report.warnings, actions: report.actions };
}

/** The report as one JSON object (`--json`): counts, where the file went, the rules and every model. */
export function reportJson(result: ImportResult, context: ReportContext): Record<string, unknown> {
  return {
    converted: convertedCount(result),
    total: result.models.length,
    severityMap: formatSeverityMap(context.severityMap),
    out: context.out ?? null,
    thresholds: result.thresholds,
    warnings: result.warnings,
    models: result.models.map(modelJson),
  };
}
