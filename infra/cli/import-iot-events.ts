/**
 * `npm run import-iot-events -- FILE... [--out FILE] [--severity-map MAP] [--json]`: converts AWS IoT
 * Events alarm models (as `aws iotevents describe-alarm-model` prints them, one per file or an array)
 * into our threshold rules, and reports each model: converted, or not and why, and what its
 * notifications and alarm actions targeted (docs/migrating-from-iot-events.md).
 *
 * Output: without `--out` the thresholds file goes to stdout and the report to stderr; with `--out`
 * the file is written (after our schema has checked it) and the report goes to stdout; `--json` prints
 * one object with both. Exit 0 when every model converted, 1 when some did not, 2 on bad input (a file
 * that is not JSON, a detector model, a bad flag).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT_CODES, runCli, writeJson, writeText } from './cli-support.js';
import { importAlarmModels } from '../iot-events/import-alarm-models.js';
import { readAlarmModelFiles } from '../iot-events/read-model-files.js';
import { formatReport, reportJson } from '../iot-events/report.js';
import { DEFAULT_SEVERITY_MAP, DEFAULT_SEVERITY_MAP_TEXT, type SeverityMap, SeverityMapError, parseSeverityMap } from '../iot-events/severity-map.js';

interface Flags {
  out?: string;
  severityMap: SeverityMap;
  json?: boolean;
}

function severityMapArgument(value: string): SeverityMap {
  try {
    return parseSeverityMap(value);
  } catch (error) {
    if (error instanceof SeverityMapError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** Writes next to the target and renames, so a reader never sees half a thresholds file. */
function writeThresholdsFile(path: string, thresholds: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(thresholds, null, 2)}\n`);
  renameSync(temporary, path);
}

function importModels(files: string[], flags: Flags): void {
  const result = importAlarmModels(readAlarmModelFiles(files), { severityMap: flags.severityMap });
  const anyConverted = result.thresholds.rules.length > 0;
  const out = anyConverted ? flags.out : undefined;
  if (out !== undefined) writeThresholdsFile(out, result.thresholds);
  const context = { severityMap: flags.severityMap, out };
  if (flags.json === true) writeJson(reportJson(result, context));
  else if (flags.out !== undefined) writeText(formatReport(result, context));
  else {
    if (anyConverted) writeText(JSON.stringify(result.thresholds, null, 2));
    process.stderr.write(`${formatReport(result, context)}\n`);
  }
  const allConverted = result.models.every((report) => report.status === 'converted');
  process.exitCode = allConverted ? EXIT_CODES.ok : EXIT_CODES.failure;
}

const program = new Command('import-iot-events')
  .description(
    'Converts AWS IoT Events alarm models (aws iotevents describe-alarm-model output, one per file or an array) into threshold rules, and reports what was not converted and why. Exit 0: all converted; 1: some not; 2: bad input.',
  )
  .argument('<files...>', 'alarm model files (JSON)')
  .option('--out <file>', 'write the thresholds file here (default: stdout, with the report on stderr)')
  .addOption(
    new Option('--severity-map <map>', 'IoT Events severity (an integer) to ours, as ranges: N=severity, N-M=severity, N+=severity')
      .argParser(severityMapArgument)
      .default(DEFAULT_SEVERITY_MAP, DEFAULT_SEVERITY_MAP_TEXT),
  )
  .option('--json', 'one JSON object on stdout: the rules and the report')
  .addHelpText('after', '\nAWS does not say which end of the severity range is the severe one: check the map (docs/migrating-from-iot-events.md).')
  .action((files: string[], flags: Flags) => importModels(files, flags));

await runCli(program);
