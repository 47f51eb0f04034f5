import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { EventContext } from '../../../infra/local/event-source/event.js';
import {
  base64Length,
  EventSizer,
  eventJsonBytes,
  jsonStringContentBytes,
  toKinesisStreamRecord,
} from '../../../infra/local/event-source/event.js';
import { executionRoleArn, kinesisStreamArn } from '../../../infra/local/event-source/arn.js';
import { formatSequenceNumber } from '../../../infra/local/stream/index.js';

const CONTEXT: EventContext = {
  streamArn: kinesisStreamArn('fleet-telemetry'),
  invokeIdentityArn: executionRoleArn('fleet-telemetry-ingest'),
};

/** Any UTF-16 string, lone surrogates and control characters included. */
const anyText = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
/** Text drawn from the characters JSON escapes or encodes on more than one byte. */
const awkwardText = fc
  .array(fc.constantFrom('"', '\\', '\b', '\t', '\n', '\f', '\r', '\u0000', '\u001f', '\u007f', 'é', '€', '\u2028', '😀', '\ud83d', '\ude00', 'a'), { maxLength: 30 })
  .map((parts) => parts.join(''));
const partitionKey = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_:-]{1,128}$/), anyText, awkwardText, fc.string({ unit: 'binary', maxLength: 256 }));

const streamRecord = fc.record({
  shardId: fc.constantFrom('shardId-000000000000', 'shardId-000000000001', 'shardId-000000000999'),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  partitionKey,
  data: fc.uint8Array({ maxLength: 3000 }),
  // Any epoch ms, so seconds print with 0 to 3 decimals (and large values as JSON writes them).
  approximateArrivalTimestamp: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.maxSafeNat()),
});

/** A record built as the mapping builds it, and the size the sizer gives it. */
function sizeOf(r: { shardId: string; seq: number; partitionKey: string; data: Uint8Array; approximateArrivalTimestamp: number }): {
  record: KinesisStreamRecord;
  computed: number;
} {
  const row = {
    shardId: r.shardId,
    sequenceNumber: formatSequenceNumber(r.seq),
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data),
    approximateArrivalTimestamp: r.approximateArrivalTimestamp,
  };
  const computed = new EventSizer(CONTEXT).recordBytes({ ...row, dataBytes: row.data.byteLength });
  return { record: toKinesisStreamRecord(row, CONTEXT), computed };
}

describe('event sizing', () => {
  it('sizes a record exactly as JSON.stringify writes it, whatever its partition key, data and arrival', () => {
    fc.assert(
      fc.property(streamRecord, (r) => {
        const { record, computed } = sizeOf(r);

        expect(computed).toBe(Buffer.byteLength(JSON.stringify(record)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('sizes a whole event exactly as JSON.stringify writes it', () => {
    fc.assert(
      fc.property(fc.array(streamRecord, { maxLength: 20 }), (rows) => {
        const sized = rows.map(sizeOf);

        const computed = eventJsonBytes(sized.map((s) => s.computed));

        expect(computed).toBe(Buffer.byteLength(JSON.stringify({ Records: sized.map((s) => s.record) })));
      }),
      { numRuns: 300 },
    );
  });

  it('counts each escaped or multi-byte character of a JSON string as JSON.stringify writes it', () => {
    const cases = ['', 'sensor-0001', '"', '\\', '\n', '\u0001', '\u007f', 'é', '€', '\u2028', '😀', '\ud83d', '\ude00', '\ude00\ud83d', 'ключ-устройства'];
    for (const text of cases) {
      expect(jsonStringContentBytes(text), JSON.stringify(text)).toBe(Buffer.byteLength(JSON.stringify(text)) - 2);
    }
  });

  it('gives the length of padded base64 for any byte count', () => {
    for (let n = 0; n < 50; n++) expect(base64Length(n)).toBe(Buffer.alloc(n).toString('base64').length);
  });
});
