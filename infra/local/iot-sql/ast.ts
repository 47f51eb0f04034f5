/** The syntax tree of the IoT SQL subset. Every node keeps the offset where it starts, for error messages. */

export type BinaryOperator = 'AND' | 'OR' | '=' | '<>' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null; readonly offset: number }
  /** `*` as a function argument: the whole payload. */
  | { readonly kind: 'payload'; readonly offset: number }
  /** A top-level payload field. */
  | { readonly kind: 'field'; readonly name: string; readonly offset: number }
  /** `expr.name` */
  | { readonly kind: 'member'; readonly object: Expr; readonly name: string; readonly offset: number }
  /** A function call; `name` is lower case (function names are case-insensitive). */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly offset: number }
  | { readonly kind: 'negate'; readonly operand: Expr; readonly offset: number }
  | { readonly kind: 'not'; readonly operand: Expr; readonly offset: number }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly offset: number };

export type SelectItem =
  | { readonly kind: 'star'; readonly offset: number }
  /** `key` is the alias, or the field name of an unaliased field reference. */
  | { readonly kind: 'expr'; readonly expr: Expr; readonly key: string; readonly offset: number };

export interface Statement {
  /** `SELECT VALUE expr`: the output is the value itself, not an object. */
  readonly selectValue: boolean;
  readonly items: readonly SelectItem[];
  readonly topicFilter: string;
  readonly where: Expr | undefined;
}

/** A substitution template: plain text and `${expr}` parts, in order. */
export type TemplatePart = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'expr'; readonly expr: Expr };
