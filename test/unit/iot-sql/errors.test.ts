import { describe, expect, it } from 'vitest';
import { compileRule, IotSqlError } from '../../../infra/local/iot-sql/index.js';
import { FleetTelemetryError } from '../../../lambdas/domain/errors.js';

function compileError(sql: string): IotSqlError {
  try {
    compileRule(sql);
  } catch (error) {
    if (error instanceof IotSqlError) return error;
    throw error;
  }
  throw new Error(`compiled without error: ${sql}`);
}

describe('compileRule refuses SQL outside the subset, naming it and its offset', () => {
  // [sql, reason, the text the offset must point at]
  describe.each([
    ["SELECT principal() AS p FROM 'a'", 'unsupported function principal()', 'principal'],
    ["SELECT cast(x AS Int) AS i FROM 'a'", 'unsupported function cast()', 'cast'],
    ["SELECT * FROM 'a' WHERE aws_lambda('arn', *) = 1", 'unsupported function aws_lambda()', 'aws_lambda'],
    ["SELECT * FROM 'a' WHERE x IS NULL", 'unsupported operator IS', 'IS'],
    ["SELECT * FROM 'a' WHERE x IN (1, 2)", 'unsupported operator IN', 'IN'],
    ["SELECT * FROM 'a' WHERE x LIKE 'a%'", 'unsupported operator LIKE', 'LIKE'],
    ["SELECT * FROM 'a' WHERE x BETWEEN 1 AND 2", 'unsupported operator BETWEEN', 'BETWEEN'],
    ["SELECT CASE x WHEN 1 THEN 'one' END AS y FROM 'a'", 'unsupported CASE expression', 'CASE'],
    ["SELECT * FROM 'a' SET b = 1", 'unsupported SET clause', 'SET'],
    ["SELECT (SELECT a FROM b) AS x FROM 'a'", 'unsupported nested SELECT', 'SELECT a'],
    ["SELECT [a, b] AS ab FROM 'a'", 'unsupported array literal', '['],
    ["SELECT {'x': 1} AS o FROM 'a'", 'unsupported object literal', '{'],
    ["SELECT a[0] AS x FROM 'a'", "unsupported '[' (use get(array, index))", '['],
    ["SELECT * FROM 'a' ORDER BY x", 'unsupported ORDER BY', 'ORDER'],
    ["SELECT * FROM 'a' WHERE a != 1", 'unsupported operator != (IoT SQL writes <>)', '!='],
    ["SELECT a AS b.c FROM 'x'", 'unsupported nested alias (a.b)', '.c'],
    ["SELECT topic() FROM 'a'", 'this SELECT expression needs an AS alias', 'topic'],
    ["SELECT 1 + 1 FROM 'a'", 'this SELECT expression needs an AS alias', '1 + 1'],
    ["SELECT encode(*, 'hex') AS e FROM 'a'", "unsupported encoding scheme 'hex' (only 'base64')", "'hex'"],
    ["SELECT encode(*, scheme) AS e FROM 'a'", "encode() needs the literal 'base64' as its scheme", 'scheme'],
    ["SELECT topic(1, 2) AS t FROM 'a'", 'topic() takes topic() or topic(n), got 2 arguments', 'topic'],
    ["SELECT timestamp(1) AS t FROM 'a'", 'timestamp() takes timestamp(), got 1 argument', 'timestamp'],
    ["SELECT get(a) AS g FROM 'a'", 'get() takes get(object, key) or get(array, index), got 1 argument', 'get'],
    ["SELECT VALUE a, b FROM 'a'", 'SELECT VALUE takes exactly one expression', ', b'],
    ["SELECT VALUE * FROM 'a'", 'SELECT VALUE takes an expression, not *', '*'],
    ["SELECT VALUE a AS b FROM 'a'", 'SELECT VALUE takes no alias', 'AS'],
    ["SELECT * AS all FROM 'a'", '* cannot have an alias', 'AS'],
    ["SELECT * + 1 AS x FROM 'a'", "expected ',' or FROM, found '+'", '+'],
    ["SELECT a b FROM 'a'", "expected ',', AS or FROM, found b", 'b FROM'],
    ["SELECT from FROM 'a'", 'expected an expression, found from', 'from'],
    ['SELECT * FROM "a"', 'FROM needs a topic filter in single quotes, found string "a"', '"a"'],
    ['SELECT * FROM a', 'FROM needs a topic filter in single quotes, found a', 'a'],
    ["SELECT * FROM ''", 'empty topic filter', "'"],
    ["SELECT * FROM 'a/#/b'", "'#' must be the last topic level", '#'],
    ["SELECT * FROM 'a+/b'", "'+' must fill a whole topic level", '+'],
    ["SELECT * FROM 'a", 'unterminated string', "'a"],
    ["SELECT 'it\\q' AS x FROM 'a'", 'unsupported escape in string', '\\q'],
    ["SELECT 1x AS x FROM 'a'", 'malformed number "1x"', '1x'],
    ["SELECT * FROM 'a' WHERE x = 1;", 'unexpected character ";"', ';'],
    ["UPDATE things SET a = 1", 'expected SELECT, found UPDATE', 'UPDATE'],
    ["SELECT * FROM 'a' WHERE (x > 1", "expected ')', found end of input", ''],
  ])('%s', (sql, reason, at) => {
    const offset = at === '' ? sql.length : sql.indexOf(at);
    it(`fails with "${reason} at ${offset}"`, () => {
      const error = compileError(sql);
      expect(error.message).toBe(`${reason} at ${offset}`);
      expect(error.offset).toBe(offset);
      expect(error.source).toBe(sql);
    });
  });

  it('raises an IotSqlError that is a FleetTelemetryError', () => {
    const error = compileError("SELECT principal() AS p FROM 'a'");
    expect(error).toBeInstanceOf(FleetTelemetryError);
    expect(error.name).toBe('IotSqlError');
  });

  it('accepts fields named like a function or like VALUE anywhere but right after SELECT', () => {
    expect(() => compileRule("SELECT timestamp, value, topic.value AS v FROM 'a'")).not.toThrow();
  });
});
