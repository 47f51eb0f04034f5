import { describe, it, expect } from 'vitest';
import type { Reading } from '../../../lambdas/domain/model.js';
import {
  decodeStreamRecord,
  decodeTelemetry,
  originalPayload,
  parseTelemetryTopic,
} from '../../../lambdas/domain/telemetry.js';
import { BASE_TIME, makeEnvelope, makeRawRecord, makeRecord } from '../../fixtures/domain/records.js';

function decodePayload(payload: unknown, options: { receivedAt?: number; deviceId?: string } = {}) {
  return decodeStreamRecord(makeRecord({ deviceId: options.deviceId ?? 'sensor-1', payload, receivedAt: options.receivedAt ?? BASE_TIME }));
}

function reasonOf(payload: unknown, options: { receivedAt?: number } = {}): string | undefined {
  const result = decodePayload(payload, options);
  return result.success ? undefined : result.rejection.reason;
}

function readingOf(payload: unknown, options: { receivedAt?: number } = {}): Reading {
  const result = decodePayload(payload, options);
  if (!result.success) throw new Error(`expected a reading, got ${result.rejection.reason}`);
  return result.reading;
}

describe('parseTelemetryTopic', () => {
  it.each([
    ['dt/fleet/sensor-0001/telemetry', 'sensor-0001'],
    ['dt/fleet/a:b_c-D9/telemetry', 'a:b_c-D9'],
    [`dt/fleet/${'x'.repeat(128)}/telemetry`, 'x'.repeat(128)],
  ])('returns the device id of %s', (topic, deviceId) => {
    expect(parseTelemetryTopic(topic)).toBe(deviceId);
  });

  it.each([
    'dt/fleet//telemetry',
    'dt/fleet/a/b/telemetry',
    'dt/fleet/bad id/telemetry',
    `dt/fleet/${'x'.repeat(129)}/telemetry`,
    'dt/fleet/d1/status',
    'alarms/fleet/d1',
    'dt/fleet/d1/telemetry/extra',
  ])('returns undefined for %s', (topic) => {
    expect(parseTelemetryTopic(topic)).toBeUndefined();
  });
});

describe('decodeStreamRecord', () => {
  it('decodes a full message into a reading with the topic device id', () => {
    const reading = readingOf({ ts: BASE_TIME - 5, seq: 17, type: 'env-sensor', metrics: { temperature: 22.4, humidity: 41 } });

    expect(reading).toEqual({
      deviceId: 'sensor-1',
      ts: BASE_TIME - 5,
      seq: 17,
      type: 'env-sensor',
      metrics: { temperature: 22.4, humidity: 41 },
      receivedAt: BASE_TIME,
    });
  });

  it('uses the receive time when the message has no ts, and leaves out absent optional fields', () => {
    const reading = readingOf({ metrics: { battery: 3.61 } });

    expect(reading).toStrictEqual({ deviceId: 'sensor-1', ts: BASE_TIME, metrics: { battery: 3.61 }, receivedAt: BASE_TIME });
  });

  it('keeps seq without type and type without seq', () => {
    expect(readingOf({ seq: 0, metrics: { a: 1 } })).toStrictEqual({ deviceId: 'sensor-1', ts: BASE_TIME, seq: 0, metrics: { a: 1 }, receivedAt: BASE_TIME });
    expect(readingOf({ type: 'x', metrics: { a: 1 } })).toStrictEqual({ deviceId: 'sensor-1', ts: BASE_TIME, type: 'x', metrics: { a: 1 }, receivedAt: BASE_TIME });
  });

  it('ignores unknown top-level keys for forward compatibility', () => {
    const reading = readingOf({ metrics: { a: 1 }, firmware: '1.2.3', extra: { nested: true } });

    expect(reading.metrics).toEqual({ a: 1 });
    expect(reading).not.toHaveProperty('firmware');
  });

  it('rejects with the field path, the device, the topic and the original payload', () => {
    const record = makeRecord({ deviceId: 'sensor-1', payload: { metrics: { temperature: '22.4' } } });

    const result = decodeStreamRecord(record);

    expect(result).toEqual({
      success: false,
      rejection: {
        reason: 'metrics.temperature: not a finite number',
        deviceId: 'sensor-1',
        topic: 'dt/fleet/sensor-1/telemetry',
        payload: Buffer.from('{"metrics":{"temperature":"22.4"}}').toString('base64'),
      },
    });
  });

  describe('metrics', () => {
    it.each([
      [{}, 'metrics: required'],
      [{ metrics: null }, 'metrics: not an object'],
      [{ metrics: [1, 2] }, 'metrics: not an object'],
      [{ metrics: 5 }, 'metrics: not an object'],
      [{ metrics: {} }, 'metrics: empty (1 to 100 entries required)'],
      [{ metrics: { temperature: '22.4' } }, 'metrics.temperature: not a finite number'],
      [{ metrics: { temperature: null } }, 'metrics.temperature: not a finite number'],
      [{ metrics: { temperature: true } }, 'metrics.temperature: not a finite number'],
      [{ metrics: { temperature: { v: 1 } } }, 'metrics.temperature: not a finite number'],
      [{ metrics: { 'bad name': 1 } }, 'metrics: invalid name "bad name" (1 to 64 of [A-Za-z0-9_.-])'],
      [{ metrics: { '': 1 } }, 'metrics: invalid name "" (1 to 64 of [A-Za-z0-9_.-])'],
    ])('rejects %j with "%s"', (payload, reason) => {
      expect(reasonOf(payload)).toBe(reason);
    });

    it('rejects a number JSON turns into Infinity', () => {
      expect(reasonOf('{"metrics":{"temperature":1e400}}')).toBe('metrics.temperature: not a finite number');
    });

    it('accepts 100 metrics and rejects 101', () => {
      const metrics = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, i]));
      const hundred = Object.fromEntries(Object.entries(metrics).slice(0, 100));

      expect(Object.keys(readingOf({ metrics: hundred }).metrics)).toHaveLength(100);
      expect(reasonOf({ metrics })).toBe('metrics: more than 100 entries');
    });

    it('accepts a 64-character name and cuts a long bad name short in the reason', () => {
      const name = 'n'.repeat(64);

      expect(readingOf({ metrics: { [name]: 1 } }).metrics[name]).toBe(1);
      expect(reasonOf({ metrics: { [`${name}x`]: 1 } })).toBe(`metrics: invalid name "${name}…" (1 to 64 of [A-Za-z0-9_.-])`);
    });

    it('keeps a metric called __proto__ as its own value, not a prototype', () => {
      const reading = readingOf('{"metrics":{"__proto__":5,"a":1}}');

      expect(Object.getOwnPropertyDescriptor(reading.metrics, '__proto__')?.value).toBe(5);
      expect(Object.getPrototypeOf(reading.metrics)).toBe(Object.prototype);
    });
  });

  describe('ts', () => {
    it('accepts epoch milliseconds', () => {
      expect(readingOf({ ts: 0, metrics: { a: 1 } }).ts).toBe(0);
      expect(readingOf({ ts: BASE_TIME, metrics: { a: 1 } }).ts).toBe(BASE_TIME);
    });

    it.each([
      [BASE_TIME + 0.5, 'ts: not a non-negative integer of epoch milliseconds'],
      [-1, 'ts: not a non-negative integer of epoch milliseconds'],
      [2 ** 53, 'ts: not a non-negative integer of epoch milliseconds'],
      [null, 'ts: must be epoch milliseconds or an ISO-8601 date-time'],
      [true, 'ts: must be epoch milliseconds or an ISO-8601 date-time'],
      [[1], 'ts: must be epoch milliseconds or an ISO-8601 date-time'],
    ])('rejects %j', (ts, reason) => {
      expect(reasonOf({ ts, metrics: { a: 1 } })).toBe(reason);
    });

    it.each([
      ['2025-11-25T00:00:00Z', BASE_TIME],
      ['2025-11-25t00:00:00z', BASE_TIME],
      ['2025-11-25T00:00:00.123Z', BASE_TIME + 123],
      ['2025-11-25T00:00:00.1Z', BASE_TIME + 100],
      ['2025-11-25T00:00:00.123456789Z', BASE_TIME + 123],
      ['2025-11-25T01:30:00+01:30', BASE_TIME],
      ['2025-11-24T23:00:00-01:00', BASE_TIME],
      ['2025-11-25T00:00:00-00:00', BASE_TIME],
      ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
      ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
      ['1970-01-01T00:00:00Z', 0],
      ['2025-04-30T23:59:59Z', Date.UTC(2025, 3, 30, 23, 59, 59)],
    ])('reads the ISO-8601 date-time %s', (ts, epoch) => {
      expect(readingOf({ ts, metrics: { a: 1 } })).toMatchObject({ ts: epoch });
    });

    it.each([
      ['2025-11-25T00:00:00', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['2025-11-25 00:00:00Z', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['2025-11-25T00:00Z', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['2025-11-25', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['2025-11-25T00:00:00+0100', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['Tue, 25 Nov 2025 00:00:00 GMT', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['1764028800123', 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)'],
      ['2025-02-29T00:00:00Z', 'ts: not a valid date-time'],
      ['1900-02-29T00:00:00Z', 'ts: before 1970-01-01T00:00:00Z'],
      ['2100-02-29T00:00:00Z', 'ts: not a valid date-time'],
      ['2025-04-31T00:00:00Z', 'ts: not a valid date-time'],
      ['2025-13-01T00:00:00Z', 'ts: not a valid date-time'],
      ['2025-00-01T00:00:00Z', 'ts: not a valid date-time'],
      ['2025-01-00T00:00:00Z', 'ts: not a valid date-time'],
      ['2025-01-01T24:00:00Z', 'ts: not a valid date-time'],
      ['2025-01-01T00:60:00Z', 'ts: not a valid date-time'],
      ['2016-12-31T23:59:60Z', 'ts: not a valid date-time'],
      ['2025-01-01T00:00:00+24:00', 'ts: not a valid time zone offset'],
      ['2025-01-01T00:00:00+01:60', 'ts: not a valid time zone offset'],
      ['0080-01-01T00:00:00Z', 'ts: before 1970-01-01T00:00:00Z'],
      ['1970-01-01T00:30:00+01:00', 'ts: before 1970-01-01T00:00:00Z'],
    ])('rejects the date-time %s', (ts, reason) => {
      expect(reasonOf({ ts, metrics: { a: 1 } })).toBe(reason);
    });

    it('accepts a ts exactly 15 minutes after the receive time and rejects one a millisecond later', () => {
      const limit = BASE_TIME + 15 * 60 * 1000;

      expect(readingOf({ ts: limit, metrics: { a: 1 } }).ts).toBe(limit);
      expect(reasonOf({ ts: limit + 1, metrics: { a: 1 } })).toBe('ts: more than 15 minutes in the future');
      expect(reasonOf({ ts: '2025-11-25T00:15:00.001Z', metrics: { a: 1 } })).toBe('ts: more than 15 minutes in the future');
    });

    it('accepts a ts long before the receive time (the store judges retention)', () => {
      expect(readingOf({ ts: 1000, metrics: { a: 1 } }).ts).toBe(1000);
    });
  });

  describe('seq and type', () => {
    it.each([
      [{ seq: -1 }, 'seq: not a non-negative integer'],
      [{ seq: 1.5 }, 'seq: not a non-negative integer'],
      [{ seq: '1' }, 'seq: not a non-negative integer'],
      [{ seq: null }, 'seq: not a non-negative integer'],
      [{ seq: 2 ** 53 }, 'seq: not a non-negative integer'],
      [{ type: '' }, 'type: must be a string of 1 to 64 of [A-Za-z0-9_.:-]'],
      [{ type: 'a b' }, 'type: must be a string of 1 to 64 of [A-Za-z0-9_.:-]'],
      [{ type: 't'.repeat(65) }, 'type: must be a string of 1 to 64 of [A-Za-z0-9_.:-]'],
      [{ type: 7 }, 'type: must be a string of 1 to 64 of [A-Za-z0-9_.:-]'],
    ])('rejects %j', (fields, reason) => {
      expect(reasonOf({ ...fields, metrics: { a: 1 } })).toBe(reason);
    });

    it('accepts the largest safe seq and a 64-character type with every allowed character', () => {
      const type = `aZ0_.:-${'t'.repeat(57)}`;

      expect(readingOf({ seq: Number.MAX_SAFE_INTEGER, type, metrics: { a: 1 } })).toMatchObject({ seq: Number.MAX_SAFE_INTEGER, type });
    });
  });

  describe('payload', () => {
    it.each([
      ['not json', 'payload: not valid JSON'],
      ['', 'payload: not valid JSON'],
      ['[1,2]', 'payload: not a JSON object'],
      ['null', 'payload: not a JSON object'],
      ['42', 'payload: not a JSON object'],
    ])('rejects %j', (payload, reason) => {
      expect(reasonOf(payload)).toBe(reason);
    });

    it('rejects bytes that are not UTF-8', () => {
      expect(reasonOf(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBe('payload: not valid UTF-8');
    });

    it('accepts 131072 bytes and rejects 131073', () => {
      const head = '{"metrics":{"a":1},"pad":"';
      const fill = (total: number) => `${head}${'x'.repeat(total - head.length - 2)}"}`;

      expect(readingOf(fill(131072)).metrics).toEqual({ a: 1 });
      expect(reasonOf(fill(131073))).toBe('payload: larger than 131072 bytes');
      expect(reasonOf(fill(131074))).toBe('payload: larger than 131072 bytes');
      expect(reasonOf(fill(131075))).toBe('payload: larger than 131072 bytes');
    });

    it.each(['eyJh', 'e30=x', 'e3 0=', 'e3!0'])('rejects the corrupted base64 payload %j', (payload) => {
      const result = decodeTelemetry({ payload, topic: 'dt/fleet/d1/telemetry', clientId: 'd1', receivedAt: BASE_TIME });

      expect(result).toEqual({ success: false, rejection: { reason: expect.stringMatching(/^payload: not valid (base64|JSON)$/), deviceId: 'd1', topic: 'dt/fleet/d1/telemetry', payload } });
    });

    it('names base64 corruption as such', () => {
      const result = decodeTelemetry({ payload: 'e3!0', topic: 'dt/fleet/d1/telemetry', clientId: 'd1', receivedAt: BASE_TIME });

      expect(result.success ? undefined : result.rejection.reason).toBe('payload: not valid base64');
    });
  });

  describe('topic', () => {
    it('rejects a topic that is not a telemetry topic, without a device id', () => {
      const result = decodeStreamRecord(makeRecord({ deviceId: 'd1', topic: 'dt/fleet/d1/status', payload: { metrics: { a: 1 } } }));

      expect(result).toEqual({
        success: false,
        rejection: { reason: 'topic: not a telemetry topic (dt/fleet/{deviceId}/telemetry)', topic: 'dt/fleet/d1/status', payload: makeEnvelope({ deviceId: 'd1', payload: { metrics: { a: 1 } } }).payload },
      });
    });

    it('rejects a telemetry topic whose device id breaks the pattern', () => {
      const result = decodeStreamRecord(makeRecord({ deviceId: 'd1', topic: 'dt/fleet/bad id/telemetry', payload: { metrics: { a: 1 } } }));

      expect(result.success ? undefined : result.rejection).toMatchObject({ reason: 'topic: device id must be 1 to 128 of [A-Za-z0-9_:-]' });
      expect(result.success ? undefined : result.rejection.deviceId).toBeUndefined();
    });
  });

  describe('envelope', () => {
    const valid = { payload: 'e30=', topic: 'dt/fleet/d1/telemetry', clientId: 'd1', receivedAt: BASE_TIME };

    it.each([
      ['not json', 'envelope: not valid JSON'],
      ['[]', 'envelope: not a JSON object'],
      [JSON.stringify({ ...valid, payload: 5 }), 'envelope: payload is not a string'],
      [JSON.stringify({ ...valid, topic: undefined }), 'envelope: topic is not a string'],
      [JSON.stringify({ ...valid, clientId: null }), 'envelope: clientId is not a string'],
      [JSON.stringify({ ...valid, receivedAt: '1' }), 'envelope: receivedAt is not a non-negative number (epoch ms)'],
      [JSON.stringify({ ...valid, receivedAt: -1 }), 'envelope: receivedAt is not a non-negative number (epoch ms)'],
      ['{"payload":"e30=","topic":"dt/fleet/d1/telemetry","clientId":"d1","receivedAt":1e400}', 'envelope: receivedAt is not a non-negative number (epoch ms)'],
    ])('rejects the envelope %s, keeping the raw record data', (data, reason) => {
      const record = makeRawRecord(data);

      const result = decodeStreamRecord(record);

      expect(result).toEqual({ success: false, rejection: { reason, payload: Buffer.from(data).toString('base64') } });
    });

    it('rejects envelope bytes that are not UTF-8', () => {
      const bytes = new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]);

      expect(decodeStreamRecord(makeRawRecord(bytes))).toEqual({ success: false, rejection: { reason: 'envelope: not valid UTF-8', payload: 'e8MofQ==' } });
    });

    it('reads record data that is a view into a larger buffer', () => {
      const envelope = { ...valid, payload: Buffer.from('{"metrics":{"a":1}}').toString('base64') };
      const data = new TextEncoder().encode(`xxxx${JSON.stringify(envelope)}yyyy`);
      const view = data.subarray(4, data.length - 4);

      expect(decodeStreamRecord(makeRawRecord(view))).toMatchObject({ success: true, reading: { deviceId: 'd1', metrics: { a: 1 } } });
      expect(originalPayload(makeRawRecord(data.subarray(0, 3)))).toBe(Buffer.from('xxx').toString('base64'));
    });
  });

  describe('originalPayload', () => {
    it('is the envelope payload when the envelope is readable', () => {
      const record = makeRecord({ deviceId: 'd1', payload: { metrics: { a: 1 } } });

      expect(originalPayload(record)).toBe(Buffer.from('{"metrics":{"a":1}}').toString('base64'));
    });

    it('is the raw data in base64 when the envelope is not', () => {
      expect(originalPayload(makeRawRecord('garbage'))).toBe(Buffer.from('garbage').toString('base64'));
    });
  });
});
