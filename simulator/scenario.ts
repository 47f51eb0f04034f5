/**
 * Scripted anomalies: which devices overheat, run low on battery or go silent, when, and for how
 * long. From a JSON file (validated, unknown keys rejected) and/or flags such as
 * `--overheat 5%@60`; resolved against the fleet into per-device time windows.
 *
 * @example A scenario file
 * ```json
 * { "anomalies": [
 *   { "kind": "overheat", "share": 0.05, "at": 60, "for": 120 },
 *   { "kind": "silent", "devices": ["sim-00003"], "at": 30, "for": 20 } ] }
 * ```
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TELEMETRY_LIMITS } from '../lambdas/domain/model.js';
import { SimulatorUsageError } from './errors.js';
import type { AnomalyEffect, DeviceKind } from './profiles/index.js';
import { PROFILES } from './profiles/index.js';
import { createRng, pickIndices } from './random.js';

/** What an anomaly does: show an effect in the readings, or stop sending (`silent`). */
const ANOMALY_KINDS = ['overheat', 'battery-low', 'silent'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

const anomalySchema = z
  .strictObject({
    kind: z.enum(ANOMALY_KINDS),
    /** Share of the devices that can show it (0 < share <= 1); at least one device when any can. */
    share: z.number().gt(0).max(1).optional(),
    /** Or the devices by id. */
    devices: z.array(z.string().regex(TELEMETRY_LIMITS.deviceId, 'not a device id')).min(1).optional(),
    /** Seconds after the fleet starts. */
    at: z.number().min(0),
    /** Seconds it lasts; absent: until the end of the run. */
    for: z.number().gt(0).optional(),
    /** The value shown (overheat: the temperature; battery-low: the voltage); absent: the device kind's default. */
    level: z.number().finite().optional(),
  })
  .refine((a) => (a.share === undefined) !== (a.devices === undefined), {
    message: 'give exactly one of share or devices',
  })
  .refine((a) => a.kind !== 'silent' || a.level === undefined, { message: 'level means nothing for silent', path: ['level'] });

const scenarioSchema = z.strictObject({ anomalies: z.array(anomalySchema) });

/** One scripted anomaly. */
export type Anomaly = z.infer<typeof anomalySchema>;
/** A scenario: the anomalies of one run. */
export type Scenario = z.infer<typeof scenarioSchema>;

/** A time window of one anomaly on one device, in ms since the fleet started (`toMs` exclusive). */
export interface AnomalyWindow {
  readonly kind: AnomalyKind;
  readonly fromMs: number;
  readonly toMs: number;
  readonly level?: number;
}

/** Validates a scenario object; throws {@link SimulatorUsageError} naming the field. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue === undefined ? '' : issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new SimulatorUsageError(`${source}${path}`, issue?.message ?? 'invalid', { cause: result.error });
}

/** Reads and validates a scenario JSON file. */
export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SimulatorUsageError('--scenario', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SimulatorUsageError('--scenario', `${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseScenario(json, file);
}

const SPEC = /^(?<who>[^@]+)@(?<at>\d+(?:\.\d+)?)s?(?:\+(?<for>\d+(?:\.\d+)?)s?)?$/;

/**
 * Parses an anomaly flag: `WHO@AT[+FOR]`, where WHO is a share (`5%` or `0.05`) or a comma
 * separated list of device ids, and AT and FOR are seconds. `--overheat 5%@60`,
 * `--silent sim-00003@30+20`.
 */
export function parseAnomalyFlag(kind: AnomalyKind, spec: string): Anomaly {
  const flag = `--${kind}`;
  const m = SPEC.exec(spec.trim());
  const groups = m?.groups;
  if (groups === undefined) {
    throw new SimulatorUsageError(flag, `expected SHARE@SECONDS[+SECONDS] or IDS@SECONDS[+SECONDS] (e.g. 5%@60, 0.05@60+120, sim-00003@30), got "${spec}"`);
  }
  const who = groups.who as string;
  const at = Number(groups.at);
  const lasts = groups.for === undefined ? undefined : Number(groups.for);
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(who);
  let anomaly: Record<string, unknown>;
  if (percent !== null) anomaly = { kind, share: Number(percent[1]) / 100, at };
  else if (/^\d*\.?\d+$/.test(who)) anomaly = { kind, share: Number(who), at };
  else anomaly = { kind, devices: who.split(',').map((s) => s.trim()), at };
  if (lasts !== undefined) anomaly.for = lasts;
  return parseScenario({ anomalies: [anomaly] }, flag).anomalies[0] as Anomaly;
}

/** Which anomaly kinds a device kind can show (every device can go silent). */
function canShow(kind: DeviceKind, anomaly: AnomalyKind): boolean {
  return anomaly === 'silent' || PROFILES[kind].effects.includes(anomaly as AnomalyEffect);
}

/** The fleet a scenario is resolved against. */
export interface ScenarioFleet {
  readonly seed: string;
  readonly deviceIds: readonly string[];
  readonly kinds: readonly DeviceKind[];
}

/**
 * Resolves a scenario into each device's anomaly windows (a sparse map by device index). Devices
 * for a `share` are drawn from the seed among the devices that can show the anomaly:
 * `max(1, round(share * eligible))` of them.
 */
export function resolveScenario(scenario: Scenario, fleet: ScenarioFleet): Map<number, AnomalyWindow[]> {
  const windows = new Map<number, AnomalyWindow[]>();
  const indexOf = new Map(fleet.deviceIds.map((id, i) => [id, i]));
  scenario.anomalies.forEach((anomaly, n) => {
    let chosen: number[];
    if (anomaly.devices !== undefined) {
      chosen = anomaly.devices.map((id) => {
        const i = indexOf.get(id);
        if (i === undefined) throw new SimulatorUsageError(`anomalies[${n}].devices`, `${id} is not one of the simulated devices`);
        const kind = fleet.kinds[i] as DeviceKind;
        if (!canShow(kind, anomaly.kind)) {
          throw new SimulatorUsageError(`anomalies[${n}].devices`, `${id} is a ${kind}, which cannot show ${anomaly.kind}`);
        }
        return i;
      });
    } else {
      const eligible = fleet.kinds.flatMap((kind, i) => (canShow(kind, anomaly.kind) ? [i] : []));
      const count = eligible.length === 0 ? 0 : Math.max(1, Math.round((anomaly.share ?? 0) * eligible.length));
      chosen = pickIndices(createRng(fleet.seed, 'anomaly', n, anomaly.kind), eligible.length, count).map((k) => eligible[k] as number);
    }
    const fromMs = Math.round(anomaly.at * 1000);
    const toMs = anomaly.for === undefined ? Number.POSITIVE_INFINITY : fromMs + Math.round(anomaly.for * 1000);
    for (const i of chosen) {
      const list = windows.get(i) ?? [];
      list.push(anomaly.level === undefined ? { kind: anomaly.kind, fromMs, toMs } : { kind: anomaly.kind, fromMs, toMs, level: anomaly.level });
      windows.set(i, list);
    }
  });
  return windows;
}
