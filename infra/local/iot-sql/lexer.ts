/**
 * Tokens of the IoT SQL subset. The lexer is pull-based (one token at a time from an offset), so the
 * template compiler can lex one `${...}` expression and resume reading plain text after its `}`.
 */
import { IotSqlError } from './errors.js';

export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** ident: the name as written; punct: the operator; string: the unescaped text; number: the literal text. */
  readonly text: string;
  /** The value of a number literal. */
  readonly value: number;
  /** 0-based offset of the first character. */
  readonly offset: number;
  /** Offset just past the last character. */
  readonly end: number;
}

const TWO_CHAR_PUNCT = new Set(['<>', '<=', '>=']);
const ONE_CHAR_PUNCT = new Set(['*', ',', '.', '(', ')', '+', '-', '/', '%', '=', '<', '>', '{', '}', '[', ']']);
const UNSUPPORTED_OPERATORS: Readonly<Record<string, string>> = {
  '!=': 'unsupported operator != (IoT SQL writes <>)',
  '||': 'unsupported operator ||',
  '&&': 'unsupported operator &&',
  '==': 'unsupported operator == (IoT SQL writes =)',
};
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', "'": "'", '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f',
};

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

/** Reads the token that starts at or after `from` (whitespace skipped). Throws IotSqlError on a bad character. */
export function readToken(source: string, from: number): Token {
  let i = from;
  while (i < source.length && isSpace(source.charCodeAt(i))) i++;
  if (i >= source.length) return { kind: 'eof', text: '', value: 0, offset: i, end: i };
  const start = i;
  const c = source.charCodeAt(i);

  if (isIdentStart(c)) {
    while (i < source.length && isIdentPart(source.charCodeAt(i))) i++;
    return { kind: 'ident', text: source.slice(start, i), value: 0, offset: start, end: i };
  }
  if (isDigit(c)) return readNumber(source, start);
  if (c === 39 || c === 34) return readString(source, start);

  const two = source.slice(i, i + 2);
  if (TWO_CHAR_PUNCT.has(two)) return { kind: 'punct', text: two, value: 0, offset: start, end: i + 2 };
  const unsupported = UNSUPPORTED_OPERATORS[two];
  if (unsupported !== undefined) throw new IotSqlError(unsupported, { offset: start, source });
  const one = source[i] as string;
  if (ONE_CHAR_PUNCT.has(one)) return { kind: 'punct', text: one, value: 0, offset: start, end: i + 1 };
  throw new IotSqlError(`unexpected character ${JSON.stringify(one)}`, { offset: start, source });
}

function readNumber(source: string, start: number): Token {
  // Same shape as the Decimal conversion pattern in the AWS docs (iot-sql-data-types):
  // digits, an optional fraction, an optional exponent. No leading '.', no sign (unary minus does that).
  let i = start;
  while (i < source.length && isDigit(source.charCodeAt(i))) i++;
  if (source[i] === '.' && isDigit(source.charCodeAt(i + 1))) {
    i++;
    while (i < source.length && isDigit(source.charCodeAt(i))) i++;
  }
  if (source[i] === 'e' || source[i] === 'E') {
    let j = i + 1;
    if (source[j] === '+' || source[j] === '-') j++;
    if (isDigit(source.charCodeAt(j))) {
      while (j < source.length && isDigit(source.charCodeAt(j))) j++;
      i = j;
    }
  }
  if (i < source.length && isIdentPart(source.charCodeAt(i))) {
    throw new IotSqlError(`malformed number ${JSON.stringify(source.slice(start, i + 1))}`, { offset: start, source });
  }
  const text = source.slice(start, i);
  const value = Number(text);
  if (!Number.isFinite(value)) throw new IotSqlError(`number out of range ${text}`, { offset: start, source });
  return { kind: 'number', text, value, offset: start, end: i };
}

function readString(source: string, start: number): Token {
  const quote = source[start];
  let i = start + 1;
  let text = '';
  for (;;) {
    if (i >= source.length) throw new IotSqlError('unterminated string', { offset: start, source });
    const ch = source[i] as string;
    if (ch === quote) return { kind: 'string', text, value: 0, offset: start, end: i + 1 };
    if (ch === '\\') {
      const next = source[i + 1];
      const simple = next === undefined ? undefined : SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        text += simple;
        i += 2;
        continue;
      }
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        text += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      throw new IotSqlError('unsupported escape in string', { offset: i, source });
    }
    text += ch;
    i++;
  }
}
