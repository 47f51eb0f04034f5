import { describe, expect, it } from 'vitest';
import { evaluateExpression, passesWhere } from './helpers.js';

/** Fields of every type; `u` is absent, so it reads as Undefined. */
const PAYLOAD = {
  i: 10,
  d: 2.5,
  s: '3',
  t: 'abc',
  b: true,
  n: null,
  a1: [1, 2],
  a2: [1, 2],
  a3: [2, 1],
  o1: { x: 1, y: [true] },
  o2: { y: [true], x: 1 },
  o3: { x: 1 },
};

describe('IoT SQL arithmetic', () => {
  describe.each([
    ['7 + 2', 9],
    ['7 - 2', 5],
    ['7 * 2', 14],
    ['7 / 2', 3],
    ['-7 / 2', -3],
    ['7 % 2', 1],
    ['-7 % 2', -1],
    ['7.5 / 2', 3.75],
    ['10.0 / 4', 2],
    ['1.5 + 1', 2.5],
    ['d * 2', 5],
    ['i / 4', 2],
    ['i / 4.0', 2],
    ['i / d', 4],
    ["'5' - 2", 3],
    ["'7' / 2", 3.5],
    ["'1e1' * 2", 20],
    ["s % 2", 1],
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['10 - 2 - 3', 5],
    ['-i', -10],
    ["-'3'", -3],
    ['- - 4', 4],
  ])('%s', (expression, expected) => {
    it(`gives ${String(expected)}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBe(expected);
    });
  });

  describe.each([
    ["'a' + 1", 'a1'],
    ["1 + 'a'", '1a'],
    ["'5' + 1", '51'],
    ["'a' + true", 'atrue'],
    ["'a' + 2.5", 'a2.5'],
    ["a1 + '!'", '[1,2]!'],
    ["o3 + ''", '{"x":1}'],
  ])('%s', (expression, expected) => {
    it(`concatenates to ${JSON.stringify(expected)}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBe(expected);
    });
  });

  describe.each([
    ["'abc' - 1", 'a string that is not a Decimal'],
    ["t * 2", 'a string field that is not a Decimal'],
    ["' 1' - 1", 'a string with a space (outside the Decimal pattern)'],
    ["'+1' - 1", 'a string with a plus sign (outside the Decimal pattern)'],
    ["'a' + null", 'Null converted to String'],
    ["'a' + u", 'Undefined converted to String'],
    ['true + 1', 'a Boolean'],
    ['null + 1', 'Null'],
    ['u + 1', 'Undefined on the left'],
    ['1 - u', 'Undefined on the right'],
    ['a1 * 2', 'an Array'],
    ['o1 - 1', 'an Object'],
    ['1 / 0', 'Int division by zero'],
    ['1.5 / 0', 'Decimal division by zero'],
    ['5 % 0', 'remainder by zero'],
    ['-b', 'negating a Boolean'],
    ['-t', 'negating a non-numeric string'],
  ])('%s', (expression, why) => {
    it(`is Undefined (${why})`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBeUndefined();
    });
  });
});

describe('IoT SQL comparisons', () => {
  describe.each([
    ['2 > 1', true],
    ['1 > 2', false],
    ['2 >= 2', true],
    ['1 < 2.5', true],
    ['3 <= 2', false],
    ['i > d', true],
    ["'10' > 9", true],
    ["s >= 3", true],
    ["'1E1' >= 10", true],
    ["'5e-1' < 1", true],
    ["'-1.5' < 0", true],
  ])('%s', (expression, expected) => {
    it(`gives ${String(expected)}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBe(expected);
    });
  });

  describe.each([
    ["'abc' > 1", 'a string that is not a Decimal'],
    ["' 1' < 2", 'a string outside the Decimal pattern'],
    ['true > false', 'Booleans'],
    ['null < 1', 'Null'],
    ['u < 1', 'Undefined on the left'],
    ['1 >= u', 'Undefined on the right'],
    ['a1 > 1', 'an Array'],
    ['o1 <= 1', 'an Object'],
  ])('%s', (expression, why) => {
    it(`is Undefined (${why})`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBeUndefined();
    });
  });
});

describe('IoT SQL equality', () => {
  describe.each([
    ['1 = 1', true],
    ['1 = 1.0', true],
    ['i = 10', true],
    ['1 = 2', false],
    ["'a' = 'a'", true],
    ["'a' = 'A'", false],
    ['true = true', true],
    ['null = null', true],
    ['null <> null', false],
    ['a1 = a2', true],
    ['a1 = a3', false],
    ['a1 <> a3', true],
    ['o1 = o2', true],
    ['o1 <> o2', false],
    ['o1 = o3', false],
    // Mismatched types: = is false, <> is true [iot-sql-operators].
    ["'1' = 1", false],
    ["'1' <> 1", true],
    ["true = 'true'", false],
    ['null = 0', false],
    ['a1 = o1', false],
    ['a1 <> o1', true],
  ])('%s', (expression, expected) => {
    it(`gives ${String(expected)}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBe(expected);
    });
  });

  describe.each(['u = 1', '1 = u', 'u = u', 'u <> 1', '1 <> u', 'n = u'])('%s', (expression) => {
    it('is Undefined (Undefined on either side)', () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBeUndefined();
    });
  });
});

describe('IoT SQL AND / OR / NOT', () => {
  describe.each([
    ['true AND true', true],
    ['true AND false', false],
    ['false OR false', false],
    ['false OR true', true],
    ["'TRUE' AND 'true'", true],
    ["'false' OR b", true],
    ['NOT true', false],
    ["NOT 'False'", true],
    ['NOT 1 = 2', true],
    ['true OR false AND false', true],
    ['(true OR false) AND false', false],
    ['not false and TRUE', true],
  ])('%s', (expression, expected) => {
    it(`gives ${String(expected)}`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBe(expected);
    });
  });

  describe.each([
    ['1 AND true', 'an Int operand'],
    ["'yes' AND true", 'a string other than "true"/"false"'],
    ['null OR true', 'Null'],
    ['u OR true', 'Undefined on the left'],
    ['true OR u', 'Undefined on the right, even when the left side is true'],
    ['false AND u', 'Undefined on the right, even when the left side is false'],
    ['NOT 1', 'NOT of an Int'],
    ['NOT u', 'NOT of Undefined'],
  ])('%s', (expression, why) => {
    it(`is Undefined (${why})`, () => {
      expect(evaluateExpression(expression, PAYLOAD)).toBeUndefined();
    });
  });
});

describe('WHERE', () => {
  describe.each([
    ['true', true],
    ['i > 5 AND t = \'abc\'', true],
    ["'true'", false],
    ['1', false],
    ['u', false],
    ['u > 1', false],
    ['NOT (u > 1)', false],
    ['null', false],
    ['false', false],
  ])('WHERE %s', (condition, passes) => {
    it(passes ? 'lets the message through' : 'stops the message: only Boolean true passes', () => {
      expect(passesWhere(condition, PAYLOAD)).toBe(passes);
    });
  });
});
