/**
 * A little geography for GPS tracks: depots to start from and dead reckoning on a sphere, which
 * is plenty at the distances a simulated run covers.
 */
import type { Rng } from '../random.js';

/** Metres per degree of latitude (mean). */
const METRES_PER_DEGREE = 111_320;

/** Depots (city centres) that tracks start near: [latitude, longitude]. */
const DEPOTS: readonly (readonly [number, number])[] = [
  [53.551, 9.993], // Hamburg
  [51.924, 4.478], // Rotterdam
  [45.764, 4.836], // Lyon
  [45.464, 9.19], // Milan
  [40.417, -3.704], // Madrid
  [52.23, 21.012], // Warsaw
  [41.878, -87.63], // Chicago
  [32.777, -96.797], // Dallas
];

/** A position and heading (degrees clockwise from north). */
export interface Position {
  lat: number;
  lon: number;
  heading: number;
}

/** A start near a random depot (within about 5 km), heading anywhere. */
export function startPosition(rng: Rng): Position {
  const depot = DEPOTS[rng.int(0, DEPOTS.length - 1)] as readonly [number, number];
  return {
    lat: depot[0] + rng.uniform(-0.045, 0.045),
    lon: depot[1] + rng.uniform(-0.045, 0.045),
    heading: rng.uniform(0, 360),
  };
}

/** Moves `pos` by `metres` along its heading (in place). */
export function advance(pos: Position, metres: number): void {
  const h = (pos.heading * Math.PI) / 180;
  pos.lat += (metres * Math.cos(h)) / METRES_PER_DEGREE;
  pos.lon += (metres * Math.sin(h)) / (METRES_PER_DEGREE * Math.cos((pos.lat * Math.PI) / 180));
  // Keep the track on the map: bounce off the poles' neighbourhood, wrap longitude.
  if (pos.lat > 85 || pos.lat < -85) {
    pos.lat = Math.max(-85, Math.min(85, pos.lat));
    pos.heading = (pos.heading + 180) % 360;
  }
  if (pos.lon > 180) pos.lon -= 360;
  if (pos.lon < -180) pos.lon += 360;
}

/** Turns the heading by `degrees` (in place), kept in [0, 360). */
export function turn(pos: Position, degrees: number): void {
  pos.heading = (((pos.heading + degrees) % 360) + 360) % 360;
}
