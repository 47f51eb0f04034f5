import { describe, expect, it } from 'vitest';
import { compileRule } from '../../../infra/local/iot-sql/index.js';

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
