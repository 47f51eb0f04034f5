/** Flags of the benchmarks' own measurement aids (bench/stages.ts, bench/consumers.ts). */

/** `name N`: a positive integer, or `fallback` when the flag is absent. */
export function positiveIntegerFlag(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}
