import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRule, topicFilterProblem } from '../../../infra/local/iot-sql/index.js';

describe('FROM topic filter matching', () => {
  describe.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b', 'A/B', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/c', true],
    ['a/+', 'a/e/f', false],
    ['a/+', 'b/x', false],
    ['a/+', 'a', false],
    ['a/+', 'a/', true],
    ['+/+', '/finance', true],
    ['+', '/finance', false],
    ['a/#', 'a/b', true],
    ['a/#', 'a/e/f', true],
    ['a/#', 'a', true],
    ['a/#', 'b/x', false],
    ['a/#', 'ab/c', false],
    ['dt/fleet/+/telemetry', 'dt/fleet/sensor-0001/telemetry', true],
    ['dt/fleet/+/telemetry', 'dt/fleet/sensor-0001/telemetry/extra', false],
    ['dt/fleet/+/telemetry', 'dt/fleet/telemetry', false],
    ['dt/fleet/+/telemetry', 'alarms/fleet/sensor-0001', false],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker', false],
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
    ['a/+', 'a/+', false],
    ['a/#', 'a/#', false],
    ['#', '', false],
  ])("'%s' against topic '%s'", (filter, topic, matches) => {
    it(matches ? 'matches' : 'does not match', () => {
      const rule = compileRule(`SELECT * FROM '${filter}'`);
      expect(rule.matchesTopic(topic)).toBe(matches);
      expect(rule.evaluate({ topic, payload: new Uint8Array(), clientId: 'c', timestamp: 0 }).matched).toBe(matches);
    });
  });
});

/** MQTT 3.1.1 section 4.7 matching, written as plainly as possible, to check the one-pass matcher against. */
function referenceMatch(filter: string, topic: string): boolean {
  if (topic === '' || topic.includes('+') || topic.includes('#')) return false;
  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');
  if ((filterLevels[0] === '+' || filterLevels[0] === '#') && topic.startsWith('$')) return false;
  for (let i = 0; i < filterLevels.length; i++) {
    if (filterLevels[i] === '#') return true;
    if (i >= topicLevels.length) return false;
    if (filterLevels[i] !== '+' && filterLevels[i] !== topicLevels[i]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

describe('FROM topic filter matching, against a plain model of MQTT 3.1.1 section 4.7', () => {
  const filterLevel = fc.constantFrom('a', 'b', 'ab', '', '+', '$x');
  const topicLevel = fc.constantFrom('a', 'b', 'ab', '', '+', '#', '$x', 'a+', 'b#c');
  const filter = fc
    .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 5 }), fc.boolean())
    .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
    .filter((f) => topicFilterProblem(f) === undefined);
  const topic = fc.oneof(fc.array(topicLevel, { minLength: 1, maxLength: 6 }).map((levels) => levels.join('/')), fc.string({ maxLength: 8 }));

  it('agrees with the model on every filter and topic', () => {
    fc.assert(
      fc.property(filter, topic, (f, t) => {
        expect(compileRule(`SELECT * FROM '${f}'`).matchesTopic(t)).toBe(referenceMatch(f, t));
      }),
      { numRuns: 5_000 },
    );
  });
});
