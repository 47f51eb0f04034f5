/**
 * What a device kind is to the simulator: a signal model that turns elapsed time into plausible
 * metrics. Pure: a model draws every random number from the `Rng` it is given, so the same seed
 * gives the same readings.
 */
import type { Rng } from '../random.js';

/** The device kinds. Their names are the telemetry `type`, as matched by config/thresholds.json. */
export const DEVICE_KINDS = ['env-sensor', 'cold-chain', 'vehicle'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** Scripted anomalies a signal model knows how to show. */
export type AnomalyEffect = 'overheat' | 'battery-low';

/** An anomaly in force for this reading; `level` overrides the profile's default value for it. */
export interface ActiveEffect {
  readonly effect: AnomalyEffect;
  readonly level?: number;
}

/** What a signal model is told for each reading. */
interface SignalContext {
  /** Seconds since the fleet started, at this reading. */
  readonly tS: number;
  /** Seconds since this device's previous reading (for the first reading, the nominal period). */
  readonly dtS: number;
  /** Anomalies in force for this device at this reading. */
  readonly effects: readonly ActiveEffect[];
}

/** Fleet-wide facts a model may use: the hour of day the run starts at (for daily cycles). */
export interface SignalEnvironment {
  /** Local hour of day (0 to 24) at t = 0. Drawn from the seed, so a run does not depend on the wall clock. */
  readonly startHour: number;
}

/** One device's signal: call once per reading, in order. */
export type Signal = (ctx: SignalContext) => Record<string, number>;

/** A device kind and its signal model. */
export interface DeviceProfile {
  readonly kind: DeviceKind;
  /** One line for `--help`. */
  readonly description: string;
  /** The metric names every reading carries. */
  readonly metrics: readonly string[];
  /** The anomalies this kind can show (a scenario only picks devices that can show it). */
  readonly effects: readonly AnomalyEffect[];
  /** A fresh signal for one device, drawing its randomness from `rng`. */
  createSignal(rng: Rng, env: SignalEnvironment): Signal;
}

/** Rounds to `digits` decimals (readings carry sensor precision, not float noise). */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Clamps into [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** The level of `effect` if it is in force, else undefined; `fallback` when in force without a level. */
export function effectLevel(ctx: SignalContext, effect: AnomalyEffect, fallback: number): number | undefined {
  const found = ctx.effects.find((e) => e.effect === effect);
  return found === undefined ? undefined : (found.level ?? fallback);
}

/** Hour of day (0 to 24) at `tS` seconds into the run. */
export function hourOfDay(env: SignalEnvironment, tS: number): number {
  return (((env.startHour + tS / 3600) % 24) + 24) % 24;
}
