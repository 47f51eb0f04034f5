/**
 * A cold-chain tracker in a refrigerated truck: the fridge temperature cycles around its setpoint
 * as the compressor switches (a thermostat with hysteresis), warms while the door is open (door
 * openings arrive at random), and the tracker reports GPS as the truck drives.
 */
import { advance, startPosition, turn } from './geo.js';
import type { DeviceProfile, Signal } from './types.js';
import { clamp, effectLevel, round } from './types.js';

/** Default fridge temperature during an `overheat` anomaly (a failed compressor): above the cold-chain rule's 8. */
const FAILED_FRIDGE_C = 12;
const BATTERY_LOW_V = 3.15;
/** Door openings per second (about one every 40 minutes) and how long one lasts. */
const DOOR_OPENINGS_PER_S = 1 / 2400;
/** Warming with the compressor off, cooling with it on, extra warming with the door open (degrees per second). */
const WARM_C_PER_S = 0.004;
const COOL_C_PER_S = 0.012;
const DOOR_WARM_C_PER_S = 0.05;
/** Simulation step: a long gap between readings is simulated second by second, up to this many steps. */
const MAX_STEPS = 3600;

export const coldChain: DeviceProfile = {
  kind: 'cold-chain',
  description: 'reefer tracker: fridge temperature (compressor cycle, door openings), humidity, door, battery, GPS',
  metrics: ['temperature', 'humidity', 'door', 'battery', 'lat', 'lon'],
  effects: ['overheat', 'battery-low'],
  createSignal(rng): Signal {
    const setpoint = rng.uniform(2.5, 5);
    let inside = setpoint + rng.uniform(-1, 1);
    let compressorOn = rng.chance(0.5);
    let doorOpenFor = 0;
    let battery = rng.uniform(3.6, 3.9);
    const pos = startPosition(rng);
    const speedMs = rng.uniform(16, 25); // 58 to 90 km/h
    return (ctx) => {
      const steps = Math.min(MAX_STEPS, Math.max(1, Math.round(ctx.dtS)));
      const stepS = ctx.dtS / steps;
      let doorSeen = doorOpenFor > 0;
      for (let i = 0; i < steps; i++) {
        if (doorOpenFor <= 0 && rng.chance(DOOR_OPENINGS_PER_S * stepS)) doorOpenFor = rng.uniform(20, 120);
        // Thermostat with a 1-degree hysteresis band around the setpoint.
        if (inside > setpoint + 1) compressorOn = true;
        else if (inside < setpoint - 1) compressorOn = false;
        inside += (compressorOn ? -COOL_C_PER_S : WARM_C_PER_S) * stepS;
        if (doorOpenFor > 0) {
          inside += DOOR_WARM_C_PER_S * stepS;
          doorOpenFor -= stepS;
          doorSeen = true;
        }
        // The truck mostly holds its road: small heading changes, now and then a turn.
        turn(pos, 0.5 * rng.gaussian() + (rng.chance(0.002 * stepS) ? rng.uniform(-90, 90) : 0));
        advance(pos, speedMs * stepS);
      }
      battery = Math.max(3.0, battery - 2e-7 * ctx.dtS - 1e-5);
      const failed = effectLevel(ctx, 'overheat', FAILED_FRIDGE_C);
      const temperature = failed === undefined ? inside + 0.05 * rng.gaussian() : failed + 0.3 * rng.gaussian();
      const low = effectLevel(ctx, 'battery-low', BATTERY_LOW_V);
      return {
        temperature: round(temperature, 2),
        humidity: round(clamp(88 + (doorSeen ? -15 : 0) + 2 * rng.gaussian(), 40, 100), 1),
        door: doorSeen ? 1 : 0,
        battery: round(low === undefined ? battery + 0.003 * rng.gaussian() : low + 0.02 * rng.gaussian(), 3),
        lat: round(pos.lat, 6),
        lon: round(pos.lon, 6),
      };
    };
  },
};
