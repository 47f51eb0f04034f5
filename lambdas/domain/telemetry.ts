/**
 * Decoding and validation of one stream record into a {@link Reading} (docs/architecture.md,
 * "The stream record"; README.md, "Contracts", Message).
 *
 * This runs once per record on both consumers (tens of thousands of records per second), so the
 * validation is written by hand: no schema library, no exceptions on the rejection path, one pass
 * over the metrics. Every rejection reason starts with the field path (`metrics.temperature: ...`,
 * `ts: ...`, `topic: ...`, `payload: ...`, `envelope: ...`) so it can be counted by field.
 *
 * Choices where the contract is silent (listed in docs/architecture.md, Decisions):
 * - A numeric `ts` must be a non-negative safe integer (epoch ms). Fractions are rejected rather than
 *   rounded: (deviceId, ts, seq) is the reading's identity for the store's idempotent upsert, and
 *   rounding could merge two different readings.
 * - A string `ts` must be an RFC 3339 date-time (the ISO-8601 profile with seconds and a time zone,
 *   `Z` or `±hh:mm`; `T`/`Z` may be lower case as RFC 3339 section 5.6 allows). Fractions of a
 *   millisecond are truncated. Calendar dates are checked (no 2025-02-30), leap seconds are refused.
 * - `null` is not "missing": `"ts": null` is rejected like any other wrong type.
 * - A `ts` more than 15 minutes after the rules engine's receive time is rejected: Timestream refuses
 *   writes more than 15 minutes in the future (Timestream developer guide, "Quotas").
 * - Unknown top-level keys are ignored (forward compatibility); unknown envelope keys too.
 */
import { pipeline } from '../../infra/pipeline.js';
import type { Reading, StreamEnvelope, StreamRecord } from './model.js';
import { TELEMETRY_LIMITS } from './model.js';

/** Why a record was refused, with what is known of its origin. */
interface TelemetryRejection {
  /** Starts with the field path, e.g. `metrics.temperature: not a finite number`. */
  readonly reason: string;
  readonly deviceId?: string;
  readonly topic?: string;
  /** The original payload, base64 (the raw record data, base64, when the envelope was unreadable). */
  readonly payload: string;
}

type DecodeResult =
  | { readonly success: true; readonly reading: Reading }
  | { readonly success: false; readonly rejection: TelemetryRejection };

/** Timestream refuses records more than 15 minutes in the future (Timestream quotas: "future writes"). */
const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000;

/** The pipeline's telemetry topic around its `{deviceId}` level (`dt/fleet/` and `/telemetry`). */
const DEVICE_ID_AT = pipeline.topics.telemetry.indexOf('{deviceId}');
const TOPIC_PREFIX = pipeline.topics.telemetry.slice(0, DEVICE_ID_AT);
const TOPIC_SUFFIX = pipeline.topics.telemetry.slice(DEVICE_ID_AT + '{deviceId}'.length);
const NOT_A_TELEMETRY_TOPIC = `topic: not a telemetry topic (${pipeline.topics.telemetry})`;
const TYPE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

// One decoder per module: `fatal` makes malformed UTF-8 throw instead of becoming U+FFFD, so a
// payload that is not UTF-8 is rejected (IoT SQL, too, only reads JSON that is valid UTF-8).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The deviceId of a telemetry topic (`pipeline.topics.telemetry`), or undefined when the topic is
 * not one or the id breaks `[A-Za-z0-9_:-]{1,128}` (an IoT thing name).
 */
export function parseTelemetryTopic(topic: string): string | undefined {
  if (!topic.startsWith(TOPIC_PREFIX) || !topic.endsWith(TOPIC_SUFFIX)) return undefined;
  const deviceId = topic.slice(TOPIC_PREFIX.length, topic.length - TOPIC_SUFFIX.length);
  return TELEMETRY_LIMITS.deviceId.test(deviceId) ? deviceId : undefined;
}

/**
 * Decodes one stream record: the envelope the IoT rule wrote, then the payload inside it.
 * Never throws; a record that breaks the contract comes back as a rejection with its reason.
 *
 * @example
 * const result = decodeStreamRecord(record);
 * if (result.success) use(result.reading); else keep(result.rejection.reason, result.rejection.payload);
 */
export function decodeStreamRecord(record: StreamRecord): DecodeResult {
  const envelope = readEnvelope(record.data);
  if (typeof envelope === 'string') {
    return { success: false, rejection: { reason: envelope, payload: base64Of(record.data) } };
  }
  return decodeTelemetry(envelope);
}

/**
 * Decodes and validates the telemetry message inside an envelope. Never throws.
 * The rejection's payload is the envelope's (base64 of the original bytes).
 */
export function decodeTelemetry(envelope: StreamEnvelope): DecodeResult {
  const { topic, payload } = envelope;
  const deviceId = parseTelemetryTopic(topic);
  if (deviceId === undefined) {
    const reason =
      topic.startsWith(TOPIC_PREFIX) && topic.endsWith(TOPIC_SUFFIX)
        ? 'topic: device id must be 1 to 128 of [A-Za-z0-9_:-]'
        : NOT_A_TELEMETRY_TOPIC;
    return reject(reason, envelope, undefined);
  }
  const message = readPayload(payload);
  if (typeof message === 'string') return reject(message, envelope, deviceId);
  const reading = validateMessage(message, deviceId, envelope.receivedAt);
  if (typeof reading === 'string') return reject(reading, envelope, deviceId);
  return { success: true, reading };
}

/**
 * The original payload of a record as a reject sink keeps it: the envelope's base64 payload, or the
 * record's raw data in base64 when the envelope is unreadable. For the rare path where a valid
 * reading is refused later (by the store), so the hot path need not carry the payload along.
 */
export function originalPayload(record: StreamRecord): string {
  const envelope = readEnvelope(record.data);
  return typeof envelope === 'string' ? base64Of(record.data) : envelope.payload;
}

function reject(reason: string, envelope: StreamEnvelope, deviceId: string | undefined): DecodeResult {
  const rejection: TelemetryRejection =
    deviceId === undefined
      ? { reason, topic: envelope.topic, payload: envelope.payload }
      : { reason, deviceId, topic: envelope.topic, payload: envelope.payload };
  return { success: false, rejection };
}

/** The envelope, or a reason starting with `envelope:`. */
function readEnvelope(data: Uint8Array): StreamEnvelope | string {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return 'envelope: not valid UTF-8';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'envelope: not valid JSON';
  }
  if (!isPlainObject(value)) return 'envelope: not a JSON object';
  const { payload, topic, clientId, receivedAt } = value;
  if (typeof payload !== 'string') return 'envelope: payload is not a string';
  if (typeof topic !== 'string') return 'envelope: topic is not a string';
  if (typeof clientId !== 'string') return 'envelope: clientId is not a string';
  if (typeof receivedAt !== 'number' || !Number.isFinite(receivedAt) || receivedAt < 0) {
    return 'envelope: receivedAt is not a non-negative number (epoch ms)';
  }
  return { payload, topic, clientId, receivedAt };
}

/** The payload's JSON object, or a reason starting with `payload:`. */
function readPayload(base64: string): Record<string, unknown> | string {
  // Check the size before decoding anything: 4 base64 characters carry 3 bytes.
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const expectedBytes = (base64.length / 4) * 3 - padding;
  if (expectedBytes > TELEMETRY_LIMITS.maxPayloadBytes) {
    return `payload: larger than ${TELEMETRY_LIMITS.maxPayloadBytes} bytes`;
  }
  // Buffer skips characters outside the alphabet instead of failing, so a length that disagrees with
  // the decoded size betrays a corrupted payload.
  const bytes = Buffer.from(base64, 'base64');
  if (base64.length % 4 !== 0 || bytes.length !== expectedBytes) return 'payload: not valid base64';
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return 'payload: not valid UTF-8';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'payload: not valid JSON';
  }
  return isPlainObject(value) ? value : 'payload: not a JSON object';
}

/** The reading, or a reason starting with the field path. */
function validateMessage(message: Record<string, unknown>, deviceId: string, receivedAt: number): Reading | string {
  const metrics = validateMetrics(message.metrics);
  if (typeof metrics === 'string') return metrics;

  let ts = receivedAt;
  if (message.ts !== undefined) {
    const parsed = parseTs(message.ts);
    if (typeof parsed === 'string') return parsed;
    if (parsed - receivedAt > MAX_FUTURE_SKEW_MS) return 'ts: more than 15 minutes in the future';
    ts = parsed;
  }

  const { seq, type } = message;
  if (seq !== undefined && !(typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0)) {
    return 'seq: not a non-negative integer';
  }
  if (type !== undefined && !(typeof type === 'string' && TYPE_PATTERN.test(type))) {
    return 'type: must be a string of 1 to 64 of [A-Za-z0-9_.:-]';
  }

  // Optional keys only when present, so a reading's JSON never carries `undefined`.
  if (seq === undefined) {
    return type === undefined ? { deviceId, ts, metrics, receivedAt } : { deviceId, ts, type, metrics, receivedAt };
  }
  return type === undefined
    ? { deviceId, ts, seq, metrics, receivedAt }
    : { deviceId, ts, seq, type, metrics, receivedAt };
}

function validateMetrics(value: unknown): Record<string, number> | string {
  if (value === undefined) return 'metrics: required';
  if (!isPlainObject(value)) return 'metrics: not an object';
  let count = 0;
  // The parsed object is returned as is (no copy): every own key is checked here, and JSON.parse
  // defines a `__proto__` key as an own property rather than setting the prototype.
  for (const name of Object.keys(value)) {
    count += 1;
    if (count > TELEMETRY_LIMITS.maxMetrics) return `metrics: more than ${TELEMETRY_LIMITS.maxMetrics} entries`;
    if (!TELEMETRY_LIMITS.metricName.test(name)) {
      return `metrics: invalid name ${quote(name)} (1 to 64 of [A-Za-z0-9_.-])`;
    }
    const metric = value[name];
    // JSON.parse turns 1e400 into Infinity: finite, not just a number.
    if (typeof metric !== 'number' || !Number.isFinite(metric)) return `metrics.${name}: not a finite number`;
  }
  if (count === 0) return 'metrics: empty (1 to 100 entries required)';
  return value as Record<string, number>;
}

/** Epoch ms from a numeric or RFC 3339 `ts`, or a reason starting with `ts:`. */
function parseTs(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : 'ts: not a non-negative integer of epoch milliseconds';
  }
  if (typeof value !== 'string') return 'ts: must be epoch milliseconds or an ISO-8601 date-time';
  const m = RFC3339.exec(value);
  if (m === null) return 'ts: not an ISO-8601 date-time with seconds and a time zone (Z or ±hh:mm)';
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  // Date.UTC maps years 0 to 99 onto 1900 to 1999, so refuse early years before it sees them.
  if (year < 1970) return 'ts: before 1970-01-01T00:00:00Z';
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return 'ts: not a valid date-time';
  }
  let offsetMinutes = 0;
  if (sign !== undefined) {
    const offsetHours = Number(oh);
    const offsetMins = Number(om);
    if (offsetHours > 23 || offsetMins > 59) return 'ts: not a valid time zone offset';
    offsetMinutes = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  const epoch = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return epoch >= 0 ? epoch : 'ts: before 1970-01-01T00:00:00Z';
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A name for a reason: JSON-quoted and cut short, since a hostile key may be 100 KiB long. */
function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

function base64Of(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
