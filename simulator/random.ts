/**
 * Seeded randomness for the simulator: the same seed gives the same readings on every machine.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state) is seeded from a
 * string through a 128-bit string hash. `Math.random` is never used for anything a reading
 * depends on; it is used only for reconnect jitter, which must differ between devices and runs.
 */

/** A source of uniform numbers in [0, 1), with a few helpers. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** Standard normal (mean 0, standard deviation 1). */
  gaussian(): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** Hashes a string into four 32-bit words (cyrb128 mixing), so nearby seeds give unrelated streams. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * A seeded generator. `parts` are joined into the seed, so each device and each purpose gets its
 * own independent stream: `createRng(seed, 'device', 17)`.
 */
export function createRng(...parts: readonly (string | number)[]): Rng {
  let [a, b, c, d] = hash128(parts.join('\u001f'));
  const next = (): number => {
    // sfc32 step.
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32 needs a few rounds to mix a hashed seed.
  for (let i = 0; i < 12; i++) next();
  let spare: number | undefined;
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    gaussian: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      // Box-Muller; 1 - next() is in (0, 1], so the log is finite.
      const u = 1 - next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => next() < p,
  };
}

/** The first `count` indices of a seeded shuffle of 0..n-1 (a partial Fisher-Yates). */
export function pickIndices(rng: Rng, n: number, count: number): number[] {
  const take = Math.min(Math.max(0, count), n);
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < take; i++) {
    const j = rng.int(i, n - 1);
    const tmp = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = tmp;
  }
  return pool.slice(0, take).sort((x, y) => x - y);
}
