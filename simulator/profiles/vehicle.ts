/**
 * A vehicle telematics unit: speed from a simple driving cycle (accelerate, cruise, brake, wait at
 * a stop), engine temperature warming up from a cold start and following load, fuel burnt with
 * distance (and a refuel when low), 12 V system voltage, and a GPS track by dead reckoning.
 */
import { advance, startPosition, turn } from './geo.js';
import type { DeviceProfile, Signal } from './types.js';
import { clamp, effectLevel, round } from './types.js';

/** Default engine temperature during an `overheat` anomaly (a coolant leak). */
const OVERHEAT_ENGINE_C = 118;
/** Acceleration and braking, in m/s per second. */
const ACCEL = 1.8;
const BRAKE = 3;
/** Fuel: percent of the tank per metre (7 L/100 km on a 60 L tank) and per idle second. */
const FUEL_PCT_PER_M = 7 / 100_000 / 60 * 100;
const FUEL_PCT_PER_IDLE_S = 0.0002;
const MAX_STEPS = 3600;

type Phase = 'stopped' | 'driving';

export const vehicle: DeviceProfile = {
  kind: 'vehicle',
  description: 'vehicle: speed (driving cycle), engine temperature, fuel, voltage, GPS track',
  metrics: ['speed', 'engineTemp', 'fuel', 'voltage', 'lat', 'lon', 'heading'],
  effects: ['overheat'],
  createSignal(rng): Signal {
    const ambient = rng.uniform(5, 25);
    const pos = startPosition(rng);
    let phase: Phase = rng.chance(0.5) ? 'driving' : 'stopped';
    let phaseLeftS = rng.uniform(5, 60);
    let speed = 0; // m/s
    let target = rng.uniform(8, 33); // 30 to 120 km/h
    let engine = ambient;
    let fuel = rng.uniform(40, 95);
    return (ctx) => {
      const steps = Math.min(MAX_STEPS, Math.max(1, Math.round(ctx.dtS)));
      const stepS = ctx.dtS / steps;
      for (let i = 0; i < steps; i++) {
        phaseLeftS -= stepS;
        if (phaseLeftS <= 0) {
          if (phase === 'stopped') {
            phase = 'driving';
            target = rng.uniform(8, 33);
            phaseLeftS = rng.uniform(30, 300);
          } else if (rng.chance(0.35)) {
            phase = 'stopped';
            phaseLeftS = rng.uniform(10, 60);
          } else {
            target = rng.uniform(8, 33);
            phaseLeftS = rng.uniform(30, 300);
          }
        }
        const want = phase === 'driving' ? target : 0;
        const before = speed;
        speed = want > speed ? Math.min(want, speed + ACCEL * stepS) : Math.max(want, speed - BRAKE * stepS);
        const load = clamp((speed - before) / (ACCEL * stepS || 1), 0, 1);
        // Engine temperature: first-order approach (time constant 2 minutes) to a load-dependent operating point.
        const operating = 88 + 8 * load + speed * 0.05;
        engine += (operating - engine) * Math.min(1, stepS / 120);
        if (speed > 0.5) turn(pos, 2 * rng.gaussian() + (rng.chance(0.01 * stepS) ? rng.uniform(-90, 90) : 0));
        const metres = speed * stepS;
        advance(pos, metres);
        fuel -= metres * FUEL_PCT_PER_M + FUEL_PCT_PER_IDLE_S * stepS;
        if (fuel < 8) fuel = rng.uniform(85, 100); // a stop at the pump
      }
      const hot = effectLevel(ctx, 'overheat', OVERHEAT_ENGINE_C);
      const running = phase === 'driving' || speed > 0;
      return {
        speed: round(Math.max(0, speed * 3.6 + (speed > 0 ? 0.4 * rng.gaussian() : 0)), 1),
        engineTemp: round(hot === undefined ? engine + 0.3 * rng.gaussian() : hot + rng.gaussian(), 1),
        fuel: round(clamp(fuel, 0, 100), 1),
        voltage: round((running ? 14.1 : 12.6) + 0.08 * rng.gaussian(), 2),
        lat: round(pos.lat, 6),
        lon: round(pos.lon, 6),
        heading: round(pos.heading, 0) % 360,
      };
    };
  },
};
