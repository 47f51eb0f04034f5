/**
 * The input files of `npm run import-iot-events`: each holds what `aws iotevents describe-alarm-model`
 * prints (one object) or an array of such objects. A file that is not JSON, holds a detector model or
 * holds anything but alarm models is bad input: the command stops with one line naming the file.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../lambdas/domain/errors.js';
import { inputKind } from './alarm-model.js';
import type { SourcedModel } from './import-alarm-models.js';

export const MIGRATION_DOC = 'docs/migrating-from-iot-events.md';

/** An input file the converter cannot take at all (exit code 2). */
export class AlarmModelFileError extends ConfigError {}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AlarmModelFileError(`${file}: ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(error)})`}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AlarmModelFileError(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function where(file: string, index: number | undefined): string {
  return index === undefined ? file : `${file} [${index}]`;
}

/** The alarm models of one file, in order. @throws AlarmModelFileError */
export function readAlarmModelFile(file: string): SourcedModel[] {
  const json = readJson(file);
  const values = Array.isArray(json) ? json : [json];
  if (values.length === 0) throw new AlarmModelFileError(`${file}: an empty array, no alarm model`);
  return values.map((model, position) => {
    const index = Array.isArray(json) ? position : undefined;
    const kind = inputKind(model);
    if (kind === 'detector-model') {
      throw new AlarmModelFileError(
        `${where(file, index)}: a detector model, not an alarm model; detector models are not converted (see ${MIGRATION_DOC}, "Detector models")`,
      );
    }
    if (kind === 'alarm-model-list') {
      throw new AlarmModelFileError(`${where(file, index)}: the output of list-alarm-models, which names the models without their rules; export each with aws iotevents describe-alarm-model (see ${MIGRATION_DOC})`);
    }
    if (kind === 'other') {
      throw new AlarmModelFileError(`${where(file, index)}: not an alarm model (expected the output of aws iotevents describe-alarm-model, with alarmModelName and alarmRule)`);
    }
    return { source: index === undefined ? { file } : { file, index }, model };
  });
}

/** The alarm models of every file, in order. @throws AlarmModelFileError for the first bad file. */
export function readAlarmModelFiles(files: readonly string[]): SourcedModel[] {
  return files.flatMap(readAlarmModelFile);
}
