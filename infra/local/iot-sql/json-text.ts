/**
 * Writes a rule's output object as UTF-8 JSON bytes directly, item by item, instead of building the
 * object, `JSON.stringify`-ing it and encoding the text: the broker runs the rule for every telemetry
 * message before its PUBACK. For the pipeline rule that path cost ~4 us per message (the object, the
 * text, a base64 string, the UTF-8 copy); the direct write ~1 us (node --cpu-prof and a
 * microbenchmark, bench/stages.ts `ack`).
 *
 * The bytes are identical to `ruleOutputBytes` of the object `compileSelect` builds (tested over
 * generated messages and statements in test/unit/iot-sql/json-text.test.ts), because:
 * - keys come out in the order the object would list them (`Object.keys` of an object built with the
 *   same keys: integer-like keys first, ascending, then insertion order) and an Undefined value leaves
 *   its key out, as `JSON.stringify` does;
 * - each value is written as `JSON.stringify` writes a property value (ECMA-262 SerializeJSONProperty):
 *   a finite number as `ToString(n)` (`-0` as `0`), a non-finite one as `null`, a string quoted with
 *   the escapes of QuoteJSONString (done by `JSON.stringify` itself whenever one may be needed), and
 *   anything else (null, arrays, objects) by `JSON.stringify`;
 * - `encode(*, 'base64')` is the payload's standard base64 (RFC 4648 section 4, with `=` padding, as
 *   `Buffer#toString('base64')` writes it), encoded straight into the output.
 *
 * Statements this cannot write the same way (`SELECT VALUE`, `*` among the items, one key given twice,
 * whose value depends on which items are Undefined) get no writer: the caller keeps the general path.
 */
import type { EvalContext, Evaluator } from './context.js';
import type { Expr, SelectItem } from './ast.js';
import { setOwn, type JsonObject } from './values.js';

/**
 * Code units QuoteJSONString does not copy as they are: `"`, `\`, controls below U+0020 and
 * surrogates (a lone one is escaped; a pair is copied, which `JSON.stringify` decides for us).
 */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what JSON must escape
const NEEDS_QUOTING_CARE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Anything but printable ASCII other than `"` and `\`: a string without any is its own JSON body, byte for char. */
const NOT_PLAIN_ASCII = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
/** Anything outside ASCII: JSON text without any is one byte per character. */
const NOT_ASCII = /[\u0080-\uffff]/;

let lastNumber = 0;
let lastNumberText = '0';

/**
 * SerializeJSONProperty: a finite Number is ToString(value) (which prints -0 as "0"), else "null".
 * The last one is remembered: `timestamp()` is the same for every message of one millisecond, and
 * printing a 13-digit number costs more than the rest of its item.
 */
function numberText(value: number): string {
  if (value === lastNumber) return lastNumberText;
  lastNumber = value;
  lastNumberText = Number.isFinite(value) ? String(value) : 'null';
  return lastNumberText;
}

/** One value as `JSON.stringify` writes it as a property value; undefined: the key is left out. */
export function jsonPropertyValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return NEEDS_QUOTING_CARE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return numberText(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    default:
      return JSON.stringify(value);
  }
}

const BASE64_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
/** The two base64 characters of each 12-bit value: two lookups per 3 bytes instead of four (~20% faster). */
const BASE64_HIGH = new Uint8Array(4096);
const BASE64_LOW = new Uint8Array(4096);
for (let v = 0; v < 4096; v++) {
  BASE64_HIGH[v] = BASE64_ALPHABET[v >>> 6] as number;
  BASE64_LOW[v] = BASE64_ALPHABET[v & 63] as number;
}
const QUOTE = 34;
const COMMA = 44;
const EQUALS = 61;

/** Length of the standard (padded) base64 of `n` bytes. */
function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

/** Writes the standard (padded) base64 of `bytes` into `out` at `at`; returns the offset after it. */
function writeBase64(bytes: Uint8Array, out: Uint8Array, at: number): number {
  const n = bytes.length;
  let o = at;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    const high = v >>> 12;
    const low = v & 4095;
    out[o] = BASE64_HIGH[high] as number;
    out[o + 1] = BASE64_LOW[high] as number;
    out[o + 2] = BASE64_HIGH[low] as number;
    out[o + 3] = BASE64_LOW[low] as number;
    o += 4;
  }
  if (i < n) {
    const two = i + 1 < n;
    const v = ((bytes[i] as number) << 16) | (two ? (bytes[i + 1] as number) << 8 : 0);
    out[o++] = BASE64_ALPHABET[v >>> 18] as number;
    out[o++] = BASE64_ALPHABET[(v >>> 12) & 63] as number;
    out[o++] = two ? (BASE64_ALPHABET[(v >>> 6) & 63] as number) : EQUALS;
    out[o++] = EQUALS;
  }
  return o;
}

const utf8 = new TextEncoder();

/** Writes ASCII `text` one byte per character: a loop for short text (cheaper than a call into native code), encodeInto for long. */
function writeAscii(text: string, out: Uint8Array, at: number): number {
  if (text.length > 64) return at + utf8.encodeInto(text, out.subarray(at)).written;
  let o = at;
  for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
  return o;
}

/**
 * What one item contributes to one message's output, decided before the output is allocated:
 * - PLAIN: a string that is its own JSON body (quotes added when written),
 * - ASCII: JSON text of one byte per character,
 * - UTF8: JSON text to encode as UTF-8,
 * - PAYLOAD_BASE64: `encode(*, 'base64')`, the payload's base64 (quotes added when written),
 * - ABSENT: Undefined, so the key is left out.
 */
const ABSENT = 0;
const PLAIN = 1;
const ASCII = 2;
const UTF8 = 3;
const PAYLOAD_BASE64 = 4;

/**
 * Outputs up to 4 KiB are cut from a 256 KiB slab of our own rather than from Node's shared 8 KiB
 * Buffer pool, which the stream's copy of each record also draws from: a new pool every dozen
 * messages cost ~1% of the broker's CPU in a QoS 1 flood (node --cpu-prof). A slab is freed once no
 * output cut from it is referenced (the stream keeps its own copy).
 */
const SLAB_BYTES = 256 * 1024;
const SLAB_MAX_OUTPUT = 4 * 1024;
let slab = new ArrayBuffer(0);
let slabUsed = 0;

function allocateOutput(length: number): Uint8Array {
  if (length > SLAB_MAX_OUTPUT) return new Uint8Array(length);
  if (slabUsed + length > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  // A plain view (not Buffer#subarray, which goes through the species constructor at ~4x the cost).
  const out = new Uint8Array(slab, slabUsed, length);
  slabUsed += length;
  return out;
}

/** Whether `expr` is `encode(*, 'base64')`: its value is the payload's base64, whatever the payload. */
function isPayloadBase64(expr: Expr): boolean {
  return expr.kind === 'call' && expr.name === 'encode' && expr.args[0]?.kind === 'payload';
}

/** Writes the UTF-8 JSON bytes of one message's output object. */
export type JsonBytesWriter = (ctx: EvalContext) => Uint8Array;

/** What a compiled writer writes, in the output's key order. */
interface WriterPlan {
  /** `"key":` as UTF-8 (a key may hold any character). */
  readonly keys: readonly Buffer[];
  readonly evaluate: readonly Evaluator[];
  /** Whether the item is `encode(*, 'base64')`, written straight from the payload. */
  readonly payloadBase64: readonly boolean[];
}

/** The plan for `SELECT item, item, ...` (no `VALUE`, no `*`, every key once), or undefined. */
function planWriter(items: readonly SelectItem[], evaluators: readonly Evaluator[]): WriterPlan | undefined {
  const exprItems: Extract<SelectItem, { kind: 'expr' }>[] = [];
  for (const item of items) {
    if (item.kind !== 'expr') return undefined;
    exprItems.push(item);
  }
  if (new Set(exprItems.map((item) => item.key)).size !== exprItems.length) return undefined;
  // The order the built object would list its keys in (integer-like keys move to the front).
  const probe: JsonObject = {};
  exprItems.forEach((item, i) => setOwn(probe, item.key, i));
  const order = Object.keys(probe).map((key) => probe[key] as number);
  return {
    keys: order.map((i) => Buffer.from(`${JSON.stringify((exprItems[i] as Extract<SelectItem, { kind: 'expr' }>).key)}:`, 'utf8')),
    evaluate: order.map((i) => evaluators[i] as Evaluator),
    payloadBase64: order.map((i) => isPayloadBase64((exprItems[i] as Extract<SelectItem, { kind: 'expr' }>).expr)),
  };
}

/**
 * A writer for `SELECT item, item, ...` (no `VALUE`, no `*`, every key once), or undefined when the
 * statement needs the general path. `evaluators[i]` is the compiled expression of `items[i]`.
 */
export function compileJsonBytesWriter(items: readonly SelectItem[], evaluators: readonly Evaluator[]): JsonBytesWriter | undefined {
  const plan = planWriter(items, evaluators);
  if (plan === undefined) return undefined;
  // Per message, reused: the writer never runs re-entrantly (evaluators do not call back into it).
  const kinds = new Uint8Array(plan.keys.length);
  const texts: (string | Uint8Array)[] = new Array<string | Uint8Array>(plan.keys.length).fill('');
  return (ctx) => {
    const out = allocateOutput(evaluateItems(ctx, plan, kinds, texts));
    writeItems(out, ctx.message.payload, plan.keys, kinds, texts);
    return out;
  };
}

/**
 * Evaluates every item into `kinds` and `texts` (how and what to write), and returns the output's
 * length in bytes.
 */
function evaluateItems(ctx: EvalContext, plan: WriterPlan, kinds: Uint8Array, texts: (string | Uint8Array)[]): number {
  const { keys, evaluate, payloadBase64 } = plan;
  let length = 2; // { }
  let present = 0;
  for (let i = 0; i < keys.length; i++) {
    let kind = ABSENT;
    let size = 0;
    if (payloadBase64[i]) {
      kind = PAYLOAD_BASE64;
      size = base64Length(ctx.message.payload.length) + 2;
    } else {
      const value = (evaluate[i] as Evaluator)(ctx);
      if (typeof value === 'string' && !NOT_PLAIN_ASCII.test(value)) {
        kind = PLAIN;
        texts[i] = value;
        size = value.length + 2;
      } else if (typeof value === 'number') {
        // A number's JSON is ASCII (digits, sign, point, exponent, or null).
        const json = numberText(value);
        kind = ASCII;
        texts[i] = json;
        size = json.length;
      } else {
        const json = jsonPropertyValue(value);
        if (json !== undefined) {
          if (NOT_ASCII.test(json)) {
            const bytes = Buffer.from(json, 'utf8');
            kind = UTF8;
            texts[i] = bytes;
            size = bytes.length;
          } else {
            kind = ASCII;
            texts[i] = json;
            size = json.length;
          }
        }
      }
    }
    kinds[i] = kind;
    if (kind !== ABSENT) {
      length += (present > 0 ? 1 : 0) + (keys[i] as Buffer).length + size;
      present += 1;
    }
  }
  return length;
}

/** Writes the object evaluateItems measured into `out`, and lets go of the texts. */
function writeItems(out: Uint8Array, payload: Uint8Array, keys: readonly Buffer[], kinds: Uint8Array, texts: (string | Uint8Array)[]): void {
  out[0] = 123; // {
  let o = 1;
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const kind = kinds[i];
    if (kind === ABSENT) continue;
    if (!first) out[o++] = COMMA;
    first = false;
    const key = keys[i] as Buffer;
    out.set(key, o);
    o += key.length;
    if (kind === PAYLOAD_BASE64) {
      out[o++] = QUOTE;
      o = writeBase64(payload, out, o);
      out[o++] = QUOTE;
    } else if (kind === PLAIN) {
      out[o++] = QUOTE;
      o = writeAscii(texts[i] as string, out, o);
      out[o++] = QUOTE;
    } else if (kind === ASCII) {
      o = writeAscii(texts[i] as string, out, o);
    } else {
      const bytes = texts[i] as Uint8Array;
      out.set(bytes, o);
      o += bytes.length;
    }
    texts[i] = '';
  }
  out[o] = 125; // }
}
