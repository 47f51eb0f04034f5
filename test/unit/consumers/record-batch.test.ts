import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { packRecords, unpackRecords } from '../../../infra/local/consumers/record-batch.js';
import { formatSequenceNumber, shardIdOf } from '../../../infra/local/stream/index.js';
import type { CommittedRecord } from '../../../infra/local/stream/index.js';

describe('a commit packed for the consumers worker', () => {
  it('unpacks to the records LocalStream.read would return, data byte for byte', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            shardIndex: fc.integer({ min: 0, max: 999 }),
            seq: fc.integer({ min: 1, max: 2 ** 40 }),
            partitionKey: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
            explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }).map(String)),
            arrivalMs: fc.integer({ min: 0, max: 2 ** 45 }),
            data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          }),
          { maxLength: 50 },
        ),
        (records: CommittedRecord[]) => {
          const { packed, transfer } = packRecords(records);
          const copy = structuredClone(packed, { transfer });

          expect(unpackRecords(copy)).toEqual(
            records.map((r) => ({
              shardId: shardIdOf(r.shardIndex),
              sequenceNumber: formatSequenceNumber(r.seq),
              partitionKey: r.partitionKey,
              ...(r.explicitHashKey === null ? {} : { explicitHashKey: r.explicitHashKey }),
              data: r.data,
              approximateArrivalTimestamp: r.arrivalMs,
            })),
          );
        },
      ),
    );
  });
});
