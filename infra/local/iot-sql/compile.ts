/**
 * Compiles a rule statement or a substitution template once into closures, so evaluating a message
 * walks no syntax tree and never re-parses the SQL (no eval, no new Function).
 */
import type { Expr, SelectItem } from './ast.js';
import { EvalContext, type Evaluator } from './context.js';
import { compileCall } from './functions.js';
import { parseStatement, parseTemplate } from './parser.js';
import { compileJsonBytesWriter } from './json-text.js';
import { compileTopicFilter } from './topic-filter.js';
import type { CompiledRule, CompiledTemplate, RuleMessage, RuleResult } from './types.js';
import {
  arithmetic,
  compareOrder,
  field,
  iotEquals,
  iotNotEquals,
  isObject,
  logical,
  negate,
  not,
  setOwn,
  toIotString,
  type JsonObject,
} from './values.js';
import { InvariantError } from '../../../lambdas/domain/errors.js';

function compileExpr(expr: Expr, source: string): Evaluator {
  const sub = (inner: Expr): Evaluator => compileExpr(inner, source);
  switch (expr.kind) {
    case 'literal': {
      const { value } = expr;
      return () => value;
    }
    case 'payload':
      return (ctx) => ctx.payload();
    case 'field': {
      const { name } = expr;
      return (ctx) => field(ctx.payload(), name);
    }
    case 'member': {
      const object = sub(expr.object);
      const { name } = expr;
      return (ctx) => field(object(ctx), name);
    }
    case 'call':
      return compileCall(expr, sub, source);
    case 'negate': {
      const operand = sub(expr.operand);
      return (ctx) => negate(operand(ctx));
    }
    case 'not': {
      const operand = sub(expr.operand);
      return (ctx) => not(operand(ctx));
    }
    case 'binary': {
      const left = sub(expr.left);
      const right = sub(expr.right);
      switch (expr.op) {
        case 'AND':
        case 'OR': {
          const op = expr.op;
          // Both sides must be Boolean-like, so an Undefined left side decides without the right one.
          return (ctx) => {
            const a = left(ctx);
            return a === undefined ? undefined : logical(op, a, right(ctx));
          };
        }
        case '=':
          return (ctx) => iotEquals(left(ctx), right(ctx));
        case '<>':
          return (ctx) => iotNotEquals(left(ctx), right(ctx));
        case '<':
        case '<=':
        case '>':
        case '>=': {
          const op = expr.op;
          return (ctx) => compareOrder(op, left(ctx), right(ctx));
        }
        case '+':
        case '-':
        case '*':
        case '/':
        case '%': {
          const op = expr.op;
          return (ctx) => arithmetic(op, left(ctx), right(ctx));
        }
      }
    }
  }
}

type Part = { readonly star: true } | { readonly star: false; readonly key: string; readonly evaluate: Evaluator };

interface CompiledSelect {
  /** The output value (an object, any JSON value, raw bytes, or Undefined). */
  readonly value: Evaluator;
  /** The output's bytes as `ruleOutputBytes(value(ctx))` gives them, computed the cheapest way this SELECT allows. */
  readonly bytes: (ctx: EvalContext) => Uint8Array;
}

function compileSelect(items: readonly SelectItem[], selectValue: boolean, source: string): CompiledSelect {
  const general = (value: Evaluator): CompiledSelect => ({ value, bytes: (ctx) => ruleOutputBytes(value(ctx)) });
  if (selectValue) {
    const [only] = items;
    if (only === undefined || only.kind !== 'expr') throw new InvariantError('parser invariant: SELECT VALUE has one expression');
    return general(compileExpr(only.expr, source));
  }
  // `SELECT *` alone: the payload as it is (an object, any other JSON value, or the raw bytes).
  if (items.length === 1 && items[0]?.kind === 'star') return general((ctx) => ctx.payload());

  const parts: Part[] = items.map((item) =>
    item.kind === 'star' ? { star: true } : { star: false, key: item.key, evaluate: compileExpr(item.expr, source) },
  );
  const value: Evaluator = (ctx) => {
    const out: JsonObject = {};
    for (const part of parts) {
      if (part.star) {
        // `*` among other items adds the payload's keys. For a payload that is not a JSON object AWS
        // refuses the combination (binary-payloads, rule #2); here `*` then adds nothing.
        const payload = ctx.payload();
        if (isObject(payload)) for (const key of Object.keys(payload)) setOwn(out, key, payload[key]);
      } else {
        const value = part.evaluate(ctx);
        // "Undefined ... when serialized to JSON" is omitted [iot-sql-data-types].
        if (value !== undefined) setOwn(out, part.key, value);
      }
    }
    return out;
  };
  const writeBytes = compileJsonBytesWriter(
    items,
    parts.map((part) => (part.star ? () => undefined : part.evaluate)),
  );
  if (writeBytes === undefined) return general(value);
  return { value, bytes: writeBytes };
}

const NOT_MATCHED: RuleResult = Object.freeze({ matched: false });

/**
 * Compiles an IoT SQL 2016-03-23 statement of the supported subset (see README.md beside this file).
 * Throws {@link IotSqlError} for anything malformed or outside the subset, with the offset.
 *
 * @example
 * const rule = compileRule("SELECT encode(*, 'base64') AS payload, topic() AS topic FROM 'dt/fleet/+/telemetry'");
 * rule.evaluate({ topic: 'dt/fleet/d1/telemetry', payload, clientId: 'd1', timestamp: Date.now() });
 * // { matched: true, output: { payload: '...', topic: 'dt/fleet/d1/telemetry' } }
 */
export function compileRule(sql: string): CompiledRule {
  const statement = parseStatement(sql);
  const matchesTopic = compileTopicFilter(statement.topicFilter);
  const where = statement.where === undefined ? undefined : compileExpr(statement.where, sql);
  const select = compileSelect(statement.items, statement.selectValue, sql);
  return {
    sql,
    topicFilter: statement.topicFilter,
    matchesTopic,
    evaluate(message: RuleMessage): RuleResult {
      if (!matchesTopic(message.topic)) return NOT_MATCHED;
      const ctx = new EvalContext(message);
      // WHERE runs first and only Boolean true lets the actions run [iot iot-sql-where].
      if (where !== undefined && where(ctx) !== true) return NOT_MATCHED;
      return { matched: true, output: select.value(ctx) };
    },
    evaluateToBytes(message: RuleMessage): Uint8Array | undefined {
      if (!matchesTopic(message.topic)) return undefined;
      const ctx = new EvalContext(message);
      if (where !== undefined && where(ctx) !== true) return undefined;
      return select.bytes(ctx);
    },
  };
}

/**
 * Compiles a substitution template such as the Kinesis action's partition key `${topic(3)}`.
 * Expressions see the original payload, functions and operators, never the SELECT aliases
 * [iot iot-substitution-templates]. A value is rendered with the String conversion; Undefined (and
 * Null, which converts to Undefined) becomes the empty string, as "Undefined is converted to an empty
 * string when serialized by itself" [iot-sql-data-types]. Throws {@link IotSqlError}.
 *
 * @example
 * compileTemplate('${topic(3)}')({ topic: 'dt/fleet/d1/telemetry', ... }) // 'd1'
 */
export function compileTemplate(template: string): CompiledTemplate {
  const parts = parseTemplate(template).map((part): Evaluator | string =>
    part.kind === 'text' ? part.text : compileExpr(part.expr, template),
  );
  if (parts.length === 0) return () => '';
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0];
    return () => constant;
  }
  if (parts.length === 1) {
    const only = parts[0] as Evaluator;
    return (message) => toIotString(only(new EvalContext(message))) ?? '';
  }
  return (message) => {
    const ctx = new EvalContext(message);
    let text = '';
    for (const part of parts) text += typeof part === 'string' ? part : (toIotString(part(ctx)) ?? '');
    return text;
  };
}

const EMPTY = new Uint8Array(0);

/**
 * The bytes an action receives for a rule output: raw bytes as they are, Undefined as nothing (the
 * empty string), anything else as UTF-8 JSON [iot-sql-data-types, binary-payloads].
 */
export function ruleOutputBytes(output: unknown): Uint8Array {
  if (output instanceof Uint8Array) return output;
  if (output === undefined) return EMPTY;
  return Buffer.from(JSON.stringify(output), 'utf8');
}
