/**
 * Recursive-descent parser for the IoT SQL 2016-03-23 subset and for `${...}` substitution templates.
 * Anything outside the subset is an IotSqlError naming the construct and its offset, never skipped.
 *
 * Precedence, lowest first: OR, AND, NOT, comparisons (= <> < <= > >=), + -, * / %, unary -, `.field`.
 */
import type { BinaryOperator, Expr, SelectItem, Statement, TemplatePart } from './ast.js';
import { IotSqlError } from './errors.js';
import { FUNCTION_NAMES } from './functions.js';
import { readToken, type Token } from './lexer.js';
import { topicFilterProblem } from './topic-filter.js';

/** Keywords that cannot be field names (write `get(*, 'from')` for such a key). */
const RESERVED = new Set(['SELECT', 'FROM', 'WHERE', 'AS', 'AND', 'OR', 'NOT', 'TRUE', 'FALSE', 'NULL']);
/** IoT SQL (or plain SQL) keywords outside our subset: named in the error instead of "unexpected". */
const UNSUPPORTED_KEYWORDS: Readonly<Record<string, string>> = {
  CASE: 'unsupported CASE expression',
  WHEN: 'unsupported CASE expression',
  THEN: 'unsupported CASE expression',
  ELSE: 'unsupported CASE expression',
  END: 'unsupported CASE expression',
  SET: 'unsupported SET clause',
  IN: 'unsupported operator IN',
  IS: 'unsupported operator IS',
  LIKE: 'unsupported operator LIKE',
  BETWEEN: 'unsupported operator BETWEEN',
  EXISTS: 'unsupported operator EXISTS',
  DISTINCT: 'unsupported DISTINCT',
  JOIN: 'unsupported JOIN',
  GROUP: 'unsupported GROUP BY',
  ORDER: 'unsupported ORDER BY',
  HAVING: 'unsupported HAVING',
  LIMIT: 'unsupported LIMIT',
};
const COMPARISON = new Set(['=', '<>', '<', '<=', '>', '>=']);

function describe(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `string ${JSON.stringify(token.text)}`;
    case 'number':
      return `number ${token.text}`;
    case 'ident':
      return token.text;
    case 'punct':
      return `'${token.text}'`;
  }
}

class Parser {
  /** The current token, read lazily: a template's text after `}` must never be lexed as SQL. */
  private token: Token | undefined;
  private position: number;

  constructor(
    private readonly source: string,
    offset: number,
  ) {
    this.position = offset;
  }

  get current(): Token {
    this.token ??= readToken(this.source, this.position);
    return this.token;
  }

  advance(): Token {
    const previous = this.current;
    this.position = previous.end;
    this.token = undefined;
    return previous;
  }

  /** The token after the current one, without consuming anything. */
  lookahead(): Token {
    return readToken(this.source, this.current.end);
  }

  fail(reason: string, offset: number = this.current.offset): never {
    throw new IotSqlError(reason, { offset, source: this.source });
  }

  /** An error for the current token, naming it as unsupported when it is a known construct we leave out. */
  unexpected(expected: string): never {
    const token = this.current;
    if (token.kind === 'ident') {
      const unsupported = UNSUPPORTED_KEYWORDS[token.text.toUpperCase()];
      if (unsupported !== undefined) this.fail(unsupported);
    }
    if (token.kind === 'punct' && token.text === '[') this.fail("unsupported '[' (use get(array, index))");
    this.fail(`expected ${expected}, found ${describe(token)}`);
  }

  isKeyword(word: string): boolean {
    const token = this.current;
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }

  isPunct(text: string): boolean {
    const token = this.current;
    return token.kind === 'punct' && token.text === text;
  }

  expectKeyword(word: string): void {
    if (!this.isKeyword(word)) this.unexpected(word);
    this.advance();
  }

  expectPunct(text: string): Token {
    if (!this.isPunct(text)) this.unexpected(`'${text}'`);
    return this.advance();
  }

  // ---- statement ----

  statement(): Statement {
    this.expectKeyword('SELECT');
    let selectValue = false;
    if (this.isKeyword('VALUE')) {
      selectValue = true;
      this.advance();
    }
    const items: SelectItem[] = [this.selectItem(selectValue)];
    while (this.isPunct(',')) {
      if (selectValue) this.fail('SELECT VALUE takes exactly one expression');
      this.advance();
      items.push(this.selectItem(false));
    }
    if (!this.isKeyword('FROM')) {
      const last = items[items.length - 1];
      this.unexpected(last?.kind === 'expr' && !selectValue ? "',', AS or FROM" : selectValue ? 'FROM' : "',' or FROM");
    }
    this.advance();
    const from = this.current;
    if (from.kind !== 'string' || this.source[from.offset] !== "'") {
      // "You must enclose the topic or topic filter in single quotes" [iot iot-sql-from]
      this.fail(from.kind === 'eof' ? 'FROM needs a topic filter in single quotes' : `FROM needs a topic filter in single quotes, found ${describe(from)}`);
    }
    const problem = topicFilterProblem(from.text);
    if (problem !== undefined) this.fail(problem.reason, from.text === '' ? from.offset : from.offset + 1 + problem.index);
    this.advance();
    let where: Expr | undefined;
    if (this.isKeyword('WHERE')) {
      this.advance();
      where = this.expression();
    }
    if (this.current.kind !== 'eof') this.unexpected(where === undefined ? 'WHERE or end of input' : 'end of input');
    return { selectValue, items, topicFilter: from.text, where };
  }

  private selectItem(selectValue: boolean): SelectItem {
    const start = this.current.offset;
    if (this.isPunct('*')) {
      if (selectValue) this.fail('SELECT VALUE takes an expression, not *');
      this.advance();
      if (this.isKeyword('AS')) this.fail('* cannot have an alias');
      return { kind: 'star', offset: start };
    }
    if (this.isKeyword('SELECT')) this.fail('unsupported nested SELECT');
    const expr = this.expression();
    if (this.isKeyword('AS')) {
      if (selectValue) this.fail('SELECT VALUE takes no alias');
      this.advance();
      const alias = this.current;
      if (alias.kind !== 'ident' || RESERVED.has(alias.text.toUpperCase())) this.unexpected('an alias name');
      this.advance();
      if (this.isPunct('.')) this.fail('unsupported nested alias (a.b)');
      return { kind: 'expr', expr, key: alias.text, offset: start };
    }
    if (selectValue) return { kind: 'expr', expr, key: '', offset: start };
    // An unaliased field keeps its (last) name, as in the docs' `SELECT color FROM 'a/b'` -> {"color": ...}.
    // AWS does not document the key of any other unaliased expression, so we ask for an alias.
    if (expr.kind === 'field' || expr.kind === 'member') return { kind: 'expr', expr, key: expr.name, offset: start };
    this.fail('this SELECT expression needs an AS alias', start);
  }

  // ---- expressions ----

  expression(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKeyword('OR')) {
      const { offset } = this.advance();
      left = { kind: 'binary', op: 'OR', left, right: this.and(), offset };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKeyword('AND')) {
      const { offset } = this.advance();
      left = { kind: 'binary', op: 'AND', left, right: this.not(), offset };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKeyword('NOT')) {
      const { offset } = this.advance();
      return { kind: 'not', operand: this.not(), offset };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    let left = this.additive();
    while (this.current.kind === 'punct' && COMPARISON.has(this.current.text)) {
      const { text, offset } = this.advance();
      left = { kind: 'binary', op: text as BinaryOperator, left, right: this.additive(), offset };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isPunct('+') || this.isPunct('-')) {
      const { text, offset } = this.advance();
      left = { kind: 'binary', op: text as BinaryOperator, left, right: this.multiplicative(), offset };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      const { text, offset } = this.advance();
      left = { kind: 'binary', op: text as BinaryOperator, left, right: this.unary(), offset };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isPunct('-')) {
      const { offset } = this.advance();
      const operand = this.unary();
      // Fold `-5` into a literal so a negative number costs nothing per message.
      if (operand.kind === 'literal' && typeof operand.value === 'number') {
        return { kind: 'literal', value: operand.value === 0 ? 0 : -operand.value, offset };
      }
      return { kind: 'negate', operand, offset };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let expr = this.primary();
    for (;;) {
      if (this.isPunct('.')) {
        this.advance();
        const name = this.current;
        if (name.kind !== 'ident') this.unexpected("a field name after '.' (use get() for other keys)");
        this.advance();
        expr = { kind: 'member', object: expr, name: name.text, offset: name.offset };
      } else if (this.isPunct('[')) {
        this.fail("unsupported '[' (use get(array, index))");
      } else {
        return expr;
      }
    }
  }

  private primary(): Expr {
    const token = this.current;
    switch (token.kind) {
      case 'number':
        this.advance();
        return { kind: 'literal', value: token.value, offset: token.offset };
      case 'string':
        this.advance();
        return { kind: 'literal', value: token.text, offset: token.offset };
      case 'ident':
        return this.identifier(token);
      case 'punct':
        if (token.text === '(') {
          this.advance();
          if (this.isKeyword('SELECT')) this.fail('unsupported nested SELECT');
          const inner = this.expression();
          this.expectPunct(')');
          return inner;
        }
        if (token.text === '{') this.fail('unsupported object literal');
        if (token.text === '[') this.fail('unsupported array literal');
        if (token.text === '*') this.fail('* is only allowed as a SELECT item or a function argument');
        return this.unexpected('an expression');
      case 'eof':
        return this.unexpected('an expression');
    }
  }

  private identifier(token: Token): Expr {
    const upper = token.text.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') {
      this.advance();
      return { kind: 'literal', value: upper === 'TRUE', offset: token.offset };
    }
    if (upper === 'NULL') {
      this.advance();
      return { kind: 'literal', value: null, offset: token.offset };
    }
    if (upper === 'SELECT') this.fail('unsupported nested SELECT');
    if (RESERVED.has(upper) || UNSUPPORTED_KEYWORDS[upper] !== undefined) this.unexpected('an expression');
    this.advance();
    if (!this.isPunct('(')) return { kind: 'field', name: token.text, offset: token.offset };
    const name = token.text.toLowerCase();
    // Refuse at the name, before the arguments: `cast(x AS Int)` should say cast() is unsupported,
    // not that AS was unexpected.
    if (!FUNCTION_NAMES.has(name)) this.fail(`unsupported function ${name}()`, token.offset);
    this.advance();
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.argument());
        if (!this.isPunct(',')) break;
        this.advance();
      }
    }
    this.expectPunct(')');
    return { kind: 'call', name, args, offset: token.offset };
  }

  /** A function argument: an expression, or `*` standing alone for the whole payload. */
  private argument(): Expr {
    if (this.isPunct('*')) {
      const next = this.lookahead();
      if (next.kind === 'punct' && (next.text === ',' || next.text === ')')) {
        const { offset } = this.advance();
        return { kind: 'payload', offset };
      }
    }
    return this.expression();
  }
}

/** Parses a whole rule statement. Throws IotSqlError. */
export function parseStatement(sql: string): Statement {
  return new Parser(sql, 0).statement();
}

/**
 * Parses a substitution template: text with zero or more `${expr}` [iot iot-substitution-templates].
 * A `$` not followed by `{` is plain text. Throws IotSqlError.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let from = 0;
  for (;;) {
    const open = template.indexOf('${', from);
    if (open === -1) {
      if (from < template.length) parts.push({ kind: 'text', text: template.slice(from) });
      return parts;
    }
    if (open > from) parts.push({ kind: 'text', text: template.slice(from, open) });
    const parser = new Parser(template, open + 2);
    if (parser.isPunct('}')) parser.fail('empty ${}', open);
    if (parser.current.kind === 'eof') parser.fail('unclosed ${', open);
    const expr = parser.expression();
    if (parser.current.kind === 'eof') parser.fail('unclosed ${', open);
    const close = parser.expectPunct('}');
    parts.push({ kind: 'expr', expr });
    from = close.end;
  }
}
