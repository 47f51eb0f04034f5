import { describe, expect, it } from 'vitest';
import { canPublish, canSubscribe, publishableTopic } from '../../../infra/local/broker/acl.js';
import type { Principal } from '../../../infra/local/broker/acl.js';

const device: Principal = { deviceId: 'd1', role: 'device' };
const operator: Principal = { deviceId: 'ops', role: 'operator' };

describe('broker ACL: alarm commands', () => {
  it('lets an operator publish a command about any one device, and nowhere else', () => {
    expect(canPublish(operator, 'cmd/fleet/alarms/d1')).toEqual({ allowed: true });
    expect(canPublish(operator, 'cmd/fleet/alarms/sensor_0001:a-b')).toEqual({ allowed: true });
    for (const topic of ['cmd/fleet/alarms/', 'cmd/fleet/alarms/+', 'cmd/fleet/alarms/#', 'cmd/fleet/alarms/d1/accepted', 'cmd/fleet/alarms/d 1', 'dt/fleet/ops/telemetry', 'alarms/fleet/d1']) {
      const decision = canPublish(operator, topic);
      expect(decision.allowed, topic).toBe(false);
      expect(decision).toMatchObject({ reason: expect.stringContaining('cmd/fleet/alarms/{deviceId}') });
    }
    expect(publishableTopic(operator)).toBeUndefined();
  });

  it('refuses a device every command topic, its own device\'s included', () => {
    expect(canPublish(device, 'cmd/fleet/alarms/d1')).toEqual({ allowed: false, reason: expect.stringMatching(/^a device may publish only on dt\/fleet\/d1\/telemetry or /) });
    expect(canPublish(device, '$aws/rules/fleet_alarm_commands/cmd/fleet/alarms/d1').allowed).toBe(false);
    expect(canPublish(device, 'dt/fleet/d1/telemetry')).toEqual({ allowed: true });
  });

  it('grants an operator the reply filters exactly as written, not wider ones', () => {
    const granted = ['cmd/fleet/alarms/+/accepted', 'cmd/fleet/alarms/+/rejected', 'cmd/fleet/alarms/d1/accepted', 'cmd/fleet/alarms/d1/rejected', 'alarms/fleet/+', 'alarms/fleet/d1'];
    const refused = ['cmd/fleet/alarms/+', 'cmd/fleet/alarms/d1', 'cmd/fleet/alarms/#', 'cmd/fleet/alarms/+/+', 'cmd/fleet/alarms/d1/#', 'cmd/fleet/alarms//accepted', 'cmd/fleet/alarms/a/b/accepted', '#'];
    for (const filter of granted) expect(canSubscribe(operator, filter).allowed, filter).toBe(true);
    for (const filter of refused) expect(canSubscribe(operator, filter).allowed, filter).toBe(false);
  });

  it('grants a device no command reply filter', () => {
    for (const filter of ['cmd/fleet/alarms/d1/accepted', 'cmd/fleet/alarms/+/rejected', 'cmd/fleet/alarms/d1']) {
      expect(canSubscribe(device, filter).allowed, filter).toBe(false);
    }
  });
});
