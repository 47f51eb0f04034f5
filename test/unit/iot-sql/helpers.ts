import { compileRule, type RuleMessage } from '../../../infra/local/iot-sql/index.js';

const encoder = new TextEncoder();

/** A message on `topic` whose payload is `payload` serialized as JSON (or the bytes / text given). */
export function message(payload: unknown, overrides: Partial<RuleMessage> = {}): RuleMessage {
  const bytes =
    payload instanceof Uint8Array ? payload : encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { topic: 'dt/fleet/d1/telemetry', payload: bytes, clientId: 'd1', timestamp: 1_764_028_800_123, ...overrides };
}

/** A text payload exactly as given (not JSON-serialized). */
export function textMessage(text: string, overrides: Partial<RuleMessage> = {}): RuleMessage {
  return message(encoder.encode(text), overrides);
}

/**
 * The value of one IoT SQL expression against a JSON payload, through `SELECT VALUE`; `undefined` is
 * IoT's Undefined.
 */
export function evaluateExpression(expression: string, payload: unknown = {}, overrides: Partial<RuleMessage> = {}): unknown {
  const result = compileRule(`SELECT VALUE ${expression} FROM '#'`).evaluate(message(payload, overrides));
  if (!result.matched) throw new Error(`SELECT VALUE ${expression} did not match`);
  return result.output;
}

/** Whether `WHERE condition` lets a message through. */
export function passesWhere(condition: string, payload: unknown = {}): boolean {
  return compileRule(`SELECT * FROM '#' WHERE ${condition}`).evaluate(message(payload)).matched;
}
