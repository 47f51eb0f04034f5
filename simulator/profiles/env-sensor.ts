/**
 * An indoor environment sensor (a battery-powered room or warehouse sensor): temperature with a
 * daily cycle, a slow sensor drift and measurement noise; humidity that falls as the room warms;
 * a coin-cell battery that drains with time and with every transmission.
 */
import type { DeviceProfile, Signal } from './types.js';
import { clamp, effectLevel, hourOfDay, round } from './types.js';

/** Default temperature during an `overheat` anomaly: above the overheat rule's 80 (config/thresholds.json). */
const OVERHEAT_C = 90;
/** Default battery voltage during a `battery-low` anomaly: below the battery-low rule's 3.3. */
const BATTERY_LOW_V = 3.15;
/** Volts lost per second of life and per transmission (about 0.03 V a day at one reading a minute). */
const DRAIN_V_PER_S = 2.5e-7;
const DRAIN_V_PER_READING = 1e-5;

export const envSensor: DeviceProfile = {
  kind: 'env-sensor',
  description: 'room sensor: temperature (daily cycle, drift, noise), humidity, battery (drain)',
  metrics: ['temperature', 'humidity', 'battery'],
  effects: ['overheat', 'battery-low'],
  createSignal(rng, env): Signal {
    const base = rng.uniform(19, 24);
    const amplitude = rng.uniform(1.5, 3.5);
    const humidityBase = rng.uniform(35, 55);
    let drift = 0;
    let battery = rng.uniform(3.55, 3.7);
    return (ctx) => {
      // Drift: a mean-reverting random walk (Ornstein-Uhlenbeck), so it wanders but stays within about 0.5 degrees.
      drift += -drift * Math.min(1, ctx.dtS / 3600) + 0.01 * Math.sqrt(ctx.dtS) * rng.gaussian();
      // Warmest mid-afternoon (15:00), coldest before dawn.
      const cycle = amplitude * Math.sin((2 * Math.PI * (hourOfDay(env, ctx.tS) - 9)) / 24);
      const comfortable = base + cycle + drift + 0.15 * rng.gaussian();
      const temperature = effectLevel(ctx, 'overheat', OVERHEAT_C);
      const measured = temperature === undefined ? comfortable : temperature + clamp(0.8 * rng.gaussian(), -2.5, 2.5);
      const humidity = clamp(humidityBase - 1.8 * (comfortable - base) + 0.8 * rng.gaussian(), 5, 98);
      battery = Math.max(2.8, battery - DRAIN_V_PER_S * ctx.dtS - DRAIN_V_PER_READING);
      const low = effectLevel(ctx, 'battery-low', BATTERY_LOW_V);
      const volts = low === undefined ? battery + 0.004 * rng.gaussian() : low + 0.02 * rng.gaussian();
      return { temperature: round(measured, 2), humidity: round(humidity, 1), battery: round(volts, 3) };
    };
  },
};
