import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeStreamRecord, decodeTelemetry } from '../../../lambdas/domain/telemetry.js';
import { BASE_TIME, makeRawRecord, makeRecord } from '../../fixtures/domain/records.js';

const FIELD_PATH = /^(envelope|topic|payload|metrics|ts|seq|type)[.:]/;

const metricName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
const deviceId = fc.stringMatching(/^[A-Za-z0-9_:-]{1,128}$/);
// JSON has no -0 (it prints as 0), so leave it out of a round trip.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));

const validMessage = fc.record(
  {
    ts: fc.integer({ min: 0, max: BASE_TIME + 15 * 60 * 1000 }),
    seq: fc.maxSafeNat(),
    type: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
    metrics: fc.dictionary(metricName, finite, { minKeys: 1, maxKeys: 100 }),
  },
  { requiredKeys: ['metrics'] },
);

describe('decodeStreamRecord (properties)', () => {
  it('never throws on arbitrary record bytes, and every rejection names a field', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = decodeStreamRecord(makeRawRecord(bytes));

        if (!result.success) expect(result.rejection.reason).toMatch(FIELD_PATH);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary payload bytes or JSON values, and every rejection names a field', () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc.string(),
      fc.jsonValue(),
      fc.record({ metrics: fc.jsonValue(), ts: fc.jsonValue(), seq: fc.jsonValue(), type: fc.jsonValue() }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(payload, deviceId, (value, id) => {
        const result = decodeStreamRecord(makeRecord({ deviceId: id, payload: value }));

        if (!result.success) {
          expect(result.rejection.reason).toMatch(FIELD_PATH);
          expect(result.rejection.payload).toBe(Buffer.from(value instanceof Uint8Array ? value : typeof value === 'string' ? value : JSON.stringify(value)).toString('base64'));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary envelopes and topics', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.double(), (payload, topic, receivedAt) => {
        const result = decodeTelemetry({ payload, topic, clientId: 'c', receivedAt });

        if (!result.success) expect(result.rejection.reason).toMatch(FIELD_PATH);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips every valid generated message into the reading it describes', () => {
    fc.assert(
      fc.property(deviceId, validMessage, (id, message) => {
        const result = decodeStreamRecord(makeRecord({ deviceId: id, payload: message, receivedAt: BASE_TIME }));

        expect(result).toEqual({
          success: true,
          reading: { deviceId: id, ts: message.ts ?? BASE_TIME, ...message, receivedAt: BASE_TIME },
        });
      }),
      { numRuns: 300 },
    );
  });

  it('reads an ISO-8601 ts as the same instant as its epoch milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: BASE_TIME }), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (epoch, offsetMinutes) => {
        const shifted = new Date(epoch + offsetMinutes * 60_000).toISOString().slice(0, 23);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const iso = `${shifted}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const result = decodeStreamRecord(makeRecord({ deviceId: 'd1', payload: { ts: iso, metrics: { a: 1 } }, receivedAt: BASE_TIME }));

        // An instant before 1970 written with a positive offset can still be valid; only compare when in range.
        if (result.success) expect(result.reading.ts).toBe(epoch);
        else expect(result.rejection.reason).toBe('ts: before 1970-01-01T00:00:00Z');
      }),
      { numRuns: 300 },
    );
  });
});
