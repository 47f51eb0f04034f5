/**
 * IoT SQL values and the 2016-03-23 type rules, on plain JavaScript values:
 *
 * | IoT type  | here                                                                   |
 * |-----------|------------------------------------------------------------------------|
 * | Undefined | `undefined`                                                            |
 * | Null      | `null`                                                                 |
 * | Boolean   | `boolean`                                                              |
 * | Int       | a `number` that is a whole number                                      |
 * | Decimal   | any other finite `number`                                              |
 * | String    | `string`                                                               |
 * | Array     | an array                                                               |
 * | Object    | a plain object                                                         |
 * | raw bytes | `Uint8Array`: `*` of a payload that is not JSON                        |
 *
 * "With SQL V2 (2016-03-23), numeric values that are whole numbers, such as 10.0, are processed as an
 * Int value (10)" [iot iot-sql-data-types], so a whole number is an Int wherever it comes from. Numbers
 * are IEEE doubles, not AWS's 34-digit decimals: integers beyond 2^53 lose precision.
 * Sources: docs.aws.amazon.com/iot/latest/developerguide/iot-sql-data-types.html, iot-sql-operators.html.
 */

export type JsonObject = { [key: string]: unknown };

/** A plain JSON object (not an array, not raw bytes, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Own property only: `{}.constructor` must stay Undefined. */
export function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** Sets an own property, even `__proto__` (which a plain assignment would turn into a prototype change). */
export function setOwn(target: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** "AWS IoT attempts to parse strings matching the regular expression ^-?\d+(\.\d+)?((?i)E-?\d+)?$" [iot-sql-data-types]. */
const DECIMAL_STRING = /^-?\d+(\.\d+)?([eE]-?\d+)?$/;

/** Int/Decimal as they are; a String matching the Decimal pattern, parsed; anything else Undefined. */
export function toDecimal(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL_STRING.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * The "To Int" conversion: a Decimal is rounded to the nearest Int (half away from zero), a String is
 * parsed as a Decimal and truncated; anything else Undefined (Null included: no caller here wants Null).
 */
export function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Math.sign(value) * Math.round(Math.abs(value));
  const n = typeof value === 'string' ? toDecimal(value) : undefined;
  return n === undefined ? undefined : Math.trunc(n);
}

/** Boolean as it is; the strings "true"/"false" in any case; anything else Undefined [iot-sql-operators AND/OR/NOT]. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

/** An Int in standard notation (never 1e+21); a Decimal as JavaScript prints it (possibly scientific, as AWS allows). */
export function numberToString(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  return String(n);
}

/** The "To String" conversion: Null and Undefined give Undefined; arrays and objects give their JSON. */
export function toIotString(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return numberToString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null || value instanceof Uint8Array) return undefined;
      return JSON.stringify(value);
    default:
      return undefined;
  }
}

/** -0 prints as 0 in JSON but is not equal to 0 under Object.is; IoT has no negative zero. */
function finite(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? 0 : n;
}

export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';

/**
 * The arithmetic operators [iot-sql-operators]. Int op Int gives an Int (division truncates); a Decimal
 * makes the result Decimal; for `- * / %` a String operand is converted to Decimal (and makes the
 * result Decimal), for `+` a String operand makes it a concatenation of the other operand converted
 * to String. Anything else, and division or remainder by zero, gives Undefined.
 */
export function arithmetic(op: ArithmeticOperator, a: unknown, b: unknown): unknown {
  if (op === '+' && (typeof a === 'string' || typeof b === 'string')) {
    const left = toIotString(a);
    const right = toIotString(b);
    return left === undefined || right === undefined ? undefined : left + right;
  }
  let x: number;
  let y: number;
  let ints: boolean;
  if (typeof a === 'number' && typeof b === 'number') {
    x = a;
    y = b;
    ints = Number.isInteger(a) && Number.isInteger(b);
  } else {
    // `+` never converts strings to numbers (it concatenates); the other operators do.
    if (op === '+') return undefined;
    const dx = toDecimal(a);
    const dy = toDecimal(b);
    if (dx === undefined || dy === undefined) return undefined;
    x = dx;
    y = dy;
    ints = false;
  }
  switch (op) {
    case '+':
      return finite(x + y);
    case '-':
      return finite(x - y);
    case '*':
      return finite(x * y);
    case '/':
      if (y === 0) return undefined;
      return finite(ints ? Math.trunc(x / y) : x / y);
    case '%':
      if (y === 0) return undefined;
      return finite(x % y);
  }
}

/** Unary minus: a number negated, a Decimal string negated, anything else Undefined. */
export function negate(value: unknown): unknown {
  const n = toDecimal(value);
  return n === undefined ? undefined : finite(-n);
}

export type OrderingOperator = '<' | '<=' | '>' | '>=';

/** `> >= < <=`: both sides converted to Decimal; Undefined if either does not convert [iot-sql-operators]. */
export function compareOrder(op: OrderingOperator, a: unknown, b: unknown): boolean | undefined {
  const x = toDecimal(a);
  if (x === undefined) return undefined;
  const y = toDecimal(b);
  if (y === undefined) return undefined;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/**
 * `=`: Undefined on either side gives Undefined; mismatched types give false; Int and Decimal compare
 * as numbers; arrays compare item by item in order; objects by keys and values, in any key order
 * [iot-sql-operators]. Null = Null is true (derived: `<>` documents Null <> Null as false).
 */
export function iotEquals(a: unknown, b: unknown): boolean | undefined {
  if (a === undefined || b === undefined) return undefined;
  return sameValue(a, b);
}

/** `<>`: the negation of `=`, except that Undefined stays Undefined (mismatched types give true). */
export function iotNotEquals(a: unknown, b: unknown): boolean | undefined {
  if (a === undefined || b === undefined) return undefined;
  return !sameValue(a, b);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !sameValue(a[key], b[key])) return false;
  }
  return true;
}

/** Logical AND/OR: each side must be a Boolean or "true"/"false" (any case), else Undefined [iot-sql-operators]. */
export function logical(op: 'AND' | 'OR', a: unknown, b: unknown): boolean | undefined {
  const x = toBoolean(a);
  if (x === undefined) return undefined;
  const y = toBoolean(b);
  if (y === undefined) return undefined;
  return op === 'AND' ? x && y : x || y;
}

/** NOT: a Boolean or "true"/"false" string negated, anything else Undefined. */
export function not(value: unknown): boolean | undefined {
  const x = toBoolean(value);
  return x === undefined ? undefined : !x;
}
