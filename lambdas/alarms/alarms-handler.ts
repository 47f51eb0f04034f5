import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { evaluateAlarms, type EvaluateAlarmsDeps } from '../app/evaluate-alarms.js';
import { toBatchResponse, toStreamRecords } from '../common/kinesis-event.js';

/**
 * The alarms consumer: checks the event's shape, runs the batch through the alarm state machine,
 * reports the devices' records a retry can fix as batch item failures. Adapters come in `deps`
 * (handler.ts on AWS, the local runtime locally).
 */
export function makeAlarmsHandler(deps: EvaluateAlarmsDeps): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  return async (event) => toBatchResponse(await evaluateAlarms(toStreamRecords(event), deps));
}
