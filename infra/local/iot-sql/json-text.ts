/**
 * Writes a rule's output object as JSON text directly, item by item, instead of building the object
 * and `JSON.stringify`-ing it: the broker runs the rule for every telemetry message before its PUBACK,
 * and building then serializing the pipeline rule's four-key object was about 5% of the broker's CPU
 * per message in a QoS 1 flood (node --cpu-prof, bench/stages.ts `ack`).
 *
 * The text is byte-identical to `JSON.stringify` of the object `compileSelect` builds (tested over
 * generated messages and statements in test/unit/iot-sql/json-text.test.ts), because:
 * - keys come out in the order the object would list them (`Object.keys` of an object built with the
 *   same keys: integer-like keys first, ascending, then insertion order) and an Undefined value leaves
 *   its key out, as `JSON.stringify` does;
 * - each value is written as `JSON.stringify` writes a property value (ECMA-262 SerializeJSONProperty):
 *   a finite number as `ToString(n)` (`-0` as `0`), a non-finite one as `null`, a string quoted with
 *   the escapes of QuoteJSONString (done by `JSON.stringify` itself whenever one may be needed), and
 *   anything else (null, arrays, objects) by `JSON.stringify`.
 *
 * Statements this cannot write the same way (`SELECT VALUE`, `*` among the items, one key given twice,
 * whose value depends on which items are Undefined) get no writer: the caller keeps the general path.
 */
import type { EvalContext, Evaluator } from './context.js';
import type { SelectItem } from './ast.js';
import { setOwn, type JsonObject } from './values.js';

/**
 * Code units QuoteJSONString does not copy as they are: `"`, `\`, controls below U+0020 and
 * surrogates (a lone one is escaped; a pair is copied, which `JSON.stringify` decides for us).
 */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what JSON must escape
const NEEDS_QUOTING_CARE = /["\\\u0000-\u001f\ud800-\udfff]/;

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

/**
 * For items whose String value can never need escaping (base64 text, UUIDs): quote without scanning.
 * Anything that is not a string (Undefined from a bad argument) goes the general way.
 */
function plainStringValue(value: unknown): string | undefined {
  return typeof value === 'string' ? `"${value}"` : jsonPropertyValue(value);
}

/** Whether an item's value, when it is a string, is known to hold only characters JSON copies as they are. */
function neverNeedsEscapes(item: Extract<SelectItem, { kind: 'expr' }>): boolean {
  const { expr } = item;
  // encode() returns base64 text ([A-Za-z0-9+/=]); newuuid() returns lower-case hex and hyphens.
  return expr.kind === 'call' && (expr.name === 'encode' || expr.name === 'newuuid');
}

/** Writes the JSON text of one message's output object. */
export type JsonTextWriter = (ctx: EvalContext) => string;

/**
 * A writer for `SELECT item, item, ...` (no `VALUE`, no `*`, every key once), or undefined when the
 * statement needs the general path. `evaluators[i]` is the compiled expression of `items[i]`.
 */
export function compileJsonTextWriter(items: readonly SelectItem[], evaluators: readonly Evaluator[]): JsonTextWriter | undefined {
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
  const keys = order.map((i) => `${JSON.stringify((exprItems[i] as Extract<SelectItem, { kind: 'expr' }>).key)}:`);
  const values = order.map((i): ((ctx: EvalContext) => string | undefined) => {
    const evaluate = evaluators[i] as Evaluator;
    if (neverNeedsEscapes(exprItems[i] as Extract<SelectItem, { kind: 'expr' }>)) return (ctx) => plainStringValue(evaluate(ctx));
    return (ctx) => jsonPropertyValue(evaluate(ctx));
  });
  const count = order.length;
  return (ctx) => {
    let text = '{';
    for (let i = 0; i < count; i++) {
      const json = (values[i] as (ctx: EvalContext) => string | undefined)(ctx);
      if (json === undefined) continue;
      text += text.length === 1 ? (keys[i] as string) + json : `,${keys[i] as string}${json}`;
    }
    return `${text}}`;
  };
}
