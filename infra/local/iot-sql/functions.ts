/**
 * The functions of the subset [iot iot-sql-functions]. Each one is compiled once into a closure;
 * a call with arguments of the wrong type gives Undefined at evaluation, as AWS documents ("Functions
 * called with invalid arguments ... return Undefined" [iot-sql-data-types]). A wrong number of
 * arguments, an encoding scheme other than 'base64', or any other function is refused at compile time.
 */
import { randomUUID } from 'node:crypto';
import type { Expr } from './ast.js';
import type { EvalContext, Evaluator } from './context.js';
import { IotSqlError } from './errors.js';
import { field, isObject, toInt, toIotString } from './values.js';

export type CompileExpr = (expr: Expr) => Evaluator;

interface FunctionSpec {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly usage: string;
  compile(args: readonly Expr[], compileExpr: CompileExpr, error: (reason: string, offset: number) => IotSqlError): Evaluator;
}

/** The `n`th level of a topic, 1-based; Undefined outside 1..levels [iot-sql-functions topic(Decimal)]. */
export function topicLevel(topic: string, n: number): string | undefined {
  if (!Number.isInteger(n) || n < 1) return undefined;
  let start = 0;
  for (let level = 1; level < n; level++) {
    const slash = topic.indexOf('/', start);
    if (slash === -1) return undefined;
    start = slash + 1;
  }
  const end = topic.indexOf('/', start);
  return end === -1 ? topic.slice(start) : topic.slice(start, end);
}

function base64(bytes: Uint8Array): string {
  // aedes hands over Buffers: encode them directly rather than through a new view.
  if (Buffer.isBuffer(bytes)) return bytes.toString('base64');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  topic: {
    minArgs: 0,
    maxArgs: 1,
    usage: 'topic() or topic(n)',
    compile(args, compileExpr) {
      const [arg] = args;
      if (arg === undefined) return (ctx) => ctx.message.topic;
      if (arg.kind === 'literal') {
        // The common case, `topic(3)`: the level number is known at compile time.
        const n = toInt(arg.value);
        if (n === undefined) return () => undefined;
        return (ctx) => topicLevel(ctx.message.topic, n);
      }
      const level = compileExpr(arg);
      return (ctx) => {
        const n = toInt(level(ctx));
        return n === undefined ? undefined : topicLevel(ctx.message.topic, n);
      };
    },
  },
  timestamp: {
    minArgs: 0,
    maxArgs: 0,
    usage: 'timestamp()',
    // "the current timestamp in milliseconds ... as observed by the AWS IoT rules engine"
    compile: () => (ctx) => ctx.message.timestamp,
  },
  clientid: {
    minArgs: 0,
    maxArgs: 0,
    usage: 'clientid()',
    // "Returns the ID of the MQTT client sending the message, or n/a if the message wasn't sent over MQTT"
    compile: () => (ctx) => (ctx.message.clientId === '' ? 'n/a' : ctx.message.clientId),
  },
  newuuid: {
    minArgs: 0,
    maxArgs: 0,
    usage: 'newuuid()',
    compile: () => () => randomUUID(),
  },
  encode: {
    minArgs: 2,
    maxArgs: 2,
    usage: "encode(value, 'base64')",
    compile(args, compileExpr, error) {
      const [value, scheme] = args as [Expr, Expr];
      // "encodingScheme: A literal string ... Currently, only 'base64' is supported."
      if (scheme.kind !== 'literal' || typeof scheme.value !== 'string') throw error("encode() needs the literal 'base64' as its scheme", scheme.offset);
      if (scheme.value !== 'base64') throw error(`unsupported encoding scheme '${scheme.value}' (only 'base64')`, scheme.offset);
      // `*` is the whole payload as bytes, "regardless of whether it's in JSON format".
      if (value.kind === 'payload') return (ctx) => base64(ctx.message.payload);
      // "If you supply an expression, the result of the evaluation is converted to a string before it is encoded."
      const evaluate = compileExpr(value);
      return (ctx) => {
        const text = toIotString(evaluate(ctx));
        return text === undefined ? undefined : Buffer.from(text, 'utf8').toString('base64');
      };
    },
  },
  get: {
    minArgs: 2,
    maxArgs: 2,
    usage: 'get(object, key) or get(array, index)',
    compile(args, compileExpr) {
      const [container, key] = args as [Expr, Expr];
      const evaluateContainer = compileExpr(container);
      const evaluateKey = compileExpr(key);
      return (ctx: EvalContext) => getItem(evaluateContainer(ctx), evaluateKey(ctx));
    },
  },
};

/**
 * `get` [iot-sql-functions]: an Array item or a String character at a 0-based index (the index
 * converted to Int, Undefined out of bounds); an Object value by String key (no conversion).
 */
export function getItem(container: unknown, key: unknown): unknown {
  if (Array.isArray(container)) {
    const index = toInt(key);
    return index === undefined || index < 0 || index >= container.length ? undefined : container[index];
  }
  if (typeof container === 'string') {
    const index = toInt(key);
    if (index === undefined || index < 0) return undefined;
    // "The character at the 0-based index": a character is a code point here, not a UTF-16 unit.
    const chars = Array.from(container);
    return index < chars.length ? chars[index] : undefined;
  }
  if (isObject(container) && typeof key === 'string') return field(container, key);
  return undefined;
}

/** Compiles a call node, or throws IotSqlError for a function outside the subset or a wrong argument count. */
export function compileCall(call: Extract<Expr, { kind: 'call' }>, compileExpr: CompileExpr, source: string): Evaluator {
  const error = (reason: string, offset: number): IotSqlError => new IotSqlError(reason, { offset, source });
  const spec = Object.hasOwn(FUNCTIONS, call.name) ? FUNCTIONS[call.name] : undefined;
  if (spec === undefined) throw new IotSqlError(`unsupported function ${call.name}()`, { offset: call.offset, source });
  const count = call.args.length;
  if (count < spec.minArgs || count > spec.maxArgs) {
    throw new IotSqlError(`${call.name}() takes ${spec.usage}, got ${count} argument${count === 1 ? '' : 's'}`, {
      offset: call.offset,
      source,
    });
  }
  return spec.compile(call.args, compileExpr, error);
}

/** Lower-case names of the supported functions: the parser refuses any other call at its name. */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set(Object.keys(FUNCTIONS));

/** The functions the subset supports, for documentation and `--help`. */
export const SUPPORTED_FUNCTIONS: readonly string[] = Object.values(FUNCTIONS).map((spec) => spec.usage);
