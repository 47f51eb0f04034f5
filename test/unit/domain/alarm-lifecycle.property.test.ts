import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';
import { applyCommand, applyReadings, applySilence, emptyAlarmState, nextWakeAt } from '../../../lambdas/domain/alarm-engine.js';
import type { DeviceAlarmState } from '../../../lambdas/domain/alarm-engine.js';
import type { AlarmEvent, AlarmStatus } from '../../../lambdas/domain/model.js';
import { ALARM_COMMAND_ACTIONS } from '../../../lambdas/domain/model.js';
import { parseThresholds } from '../../../lambdas/domain/thresholds.js';

const T0 = 1_764_028_800_000;

/** Every lifecycle option: a latching rule with reminders, a debounced one, a silence rule with reminders. */
const rules = parseThresholds({
  rules: [
    { id: 'hot', metric: 'temperature', when: { above: 80 }, clear: { below: 75 }, latch: true, remindEvery: { seconds: 60 }, severity: 'critical' },
    { id: 'warm', metric: 'temperature', when: { above: 70 }, for: { samples: 2 }, severity: 'minor' },
    { id: 'silent', when: { silentFor: { seconds: 300 } }, remindEvery: { seconds: 120 }, severity: 'major' },
  ],
});
const RULE_IDS = ['hot', 'warm', 'silent'] as const;

type Step =
  | { readonly kind: 'reading'; readonly dt: number; readonly temperature: number }
  | { readonly kind: 'command'; readonly dt: number; readonly command: AlarmCommand; readonly by: string }
  | { readonly kind: 'check'; readonly dt: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('reading' as const), dt: fc.integer({ min: 1, max: 120_000 }), temperature: fc.integer({ min: 60, max: 95 }) }),
  fc.record({
    kind: fc.constant('command' as const),
    dt: fc.integer({ min: 1, max: 120_000 }),
    by: fc.constantFrom('op-1', 'op-2'),
    command: fc
      .record({ action: fc.constantFrom(...ALARM_COMMAND_ACTIONS), ruleId: fc.constantFrom(...RULE_IDS), seconds: fc.integer({ min: 1, max: 600 }) })
      .map(({ action, ruleId, seconds }): AlarmCommand => (action === 'snooze' ? { action, ruleId, seconds } : { action, ruleId })),
  }),
  fc.record({ kind: fc.constant('check' as const), dt: fc.integer({ min: 1, max: 400_000 }) }),
);

interface Applied {
  readonly state: DeviceAlarmState;
  readonly events: AlarmEvent[];
  readonly refused: boolean;
}

/** One step at time `at` on `state`. */
function apply(state: unknown, s: Step, at: number): Applied {
  if (s.kind === 'reading') {
    const result = applyReadings({ deviceId: 'd1', state, readings: [{ deviceId: 'd1', ts: at, metrics: { temperature: s.temperature }, receivedAt: at }], rules });
    return { state: result.state, events: result.events, refused: false };
  }
  if (s.kind === 'check') {
    const result = applySilence({ deviceId: 'd1', state, now: at, rules });
    return { state: result.state, events: result.events, refused: false };
  }
  const result = applyCommand({ deviceId: 'd1', state, rules, command: s.command, by: s.by, at });
  if (result.outcome === 'rejected') return { state: (state as DeviceAlarmState | undefined) ?? emptyAlarmState(), events: [], refused: true };
  return { state: result.state, events: result.events, refused: false };
}

/** Runs the steps in time order; `twice` applies every step a second time right after itself. */
function runSteps(steps: readonly Step[], options: { twice?: boolean } = {}) {
  let state: unknown;
  let at = T0;
  const events: AlarmEvent[] = [];
  const trace: { step: Step; at: number; before: unknown; after: Applied }[] = [];
  for (const s of steps) {
    at += s.dt;
    const first = apply(state, s, at);
    trace.push({ step: s, at, before: state, after: first });
    events.push(...first.events);
    state = JSON.parse(JSON.stringify(first.state));
    if (options.twice === true) {
      const again = apply(state, s, at);
      events.push(...again.events);
      state = JSON.parse(JSON.stringify(again.state));
    }
  }
  return { events, state: state as DeviceAlarmState | undefined, trace };
}

const SEED = { seed: 1_764_028_813 };

describe('the alarm lifecycle (properties)', () => {
  it('emits each transition exactly once however often a reading, a command or a check is applied again', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const once = runSteps(steps);
        const twice = runSteps(steps, { twice: true });

        expect(twice.events).toEqual(once.events);
        expect(twice.state).toEqual(once.state);
      }),
      { ...SEED, numRuns: 400 },
    );
  });

  it('chains every rule: each event leaves from the state the previous one reached, starting from OK', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const { events } = runSteps(steps);
        const current = new Map<string, AlarmStatus>();
        for (const event of events) {
          expect(event.previousState).toBe(current.get(event.ruleId) ?? 'OK');
          if (event.reminder === true) expect([event.previousState, event.state]).toEqual(['ALARM', 'ALARM']);
          current.set(event.ruleId, event.state);
        }
      }),
      { ...SEED, numRuns: 400 },
    );
  });

  it('changes nothing on a refused command, and raises nothing for a DISABLED rule or a SNOOZED one before its end', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const { trace } = runSteps(steps);
        for (const { step: s, before, after, at } of trace) {
          if (after.refused) expect(after.state).toEqual(before ?? after.state);
          if (s.kind === 'command') continue;
          const stored = (before as DeviceAlarmState | undefined)?.rules ?? [];
          for (const event of after.events) {
            const ruleState = stored.find((r) => r.rule === event.ruleId);
            expect(ruleState?.status).not.toBe('DISABLED');
            if (ruleState?.status === 'SNOOZED') {
              expect(at).toBeGreaterThanOrEqual(ruleState.until as number);
              expect(event.previousState).toBe('SNOOZED');
            }
          }
        }
      }),
      { ...SEED, numRuns: 400 },
    );
  });

  it('reminds an unacknowledged ALARM at most once per interval, on the interval boundary, and never otherwise', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const { events } = runSteps(steps);
        const every = { hot: 60_000, silent: 120_000 } as Record<string, number>;
        let raisedAt = new Map<string, number>();
        const seen = new Set<string>();
        for (const event of events) {
          if (event.reminder === true) {
            const since = raisedAt.get(event.ruleId) as number;
            const interval = every[event.ruleId] as number;
            expect(interval).toBeDefined();
            expect((event.ts - since) % interval).toBe(0);
            expect(event.ts - since).toBeGreaterThanOrEqual(interval);
            const key = `${event.ruleId}@${event.ts}`;
            expect(seen.has(key)).toBe(false);
            seen.add(key);
          } else if (event.state === 'ALARM') {
            raisedAt = new Map(raisedAt).set(event.ruleId, event.ts);
          }
        }
      }),
      { ...SEED, numRuns: 400 },
    );
  });

  it('keeps the wake time at the earliest snooze end or due reminder', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const { state } = runSteps(steps);
        const wakeAt = nextWakeAt(state, rules);
        const pending = (state?.rules ?? []).flatMap((r) => {
          if (r.status === 'SNOOZED') return [r.until as number];
          if (r.status === 'ALARM' && (r.rule === 'hot' || r.rule === 'silent')) {
            return [(r.since as number) + ((r.reminded ?? 0) + 1) * (r.rule === 'hot' ? 60_000 : 120_000)];
          }
          return [];
        });
        expect(wakeAt).toBe(pending.length === 0 ? undefined : Math.min(...pending));
      }),
      { ...SEED, numRuns: 300 },
    );
  });
});
