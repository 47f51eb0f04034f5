import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { storeReadings, type StoreReadingsDeps } from '../app/store-readings.js';
import { toBatchResponse, toStreamRecords } from '../common/kinesis-event.js';

/**
 * The ingest consumer: checks the event's shape, stores the batch, reports what a retry can fix as
 * batch item failures. No adapters are chosen here: `deps` come from the AWS composition root
 * (handler.ts) or the local runtime.
 *
 * @example
 * const handle = makeIngestHandler({ store, rejects, clock: systemClock, metrics, log });
 * const response = await handle(event); // { batchItemFailures: [{ itemIdentifier: '4959...' }] }
 */
export function makeIngestHandler(deps: StoreReadingsDeps): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  return async (event) => toBatchResponse(await storeReadings(toStreamRecords(event), deps));
}
