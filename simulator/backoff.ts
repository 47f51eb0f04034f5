/**
 * Reconnect delays and device ids, shared by the fleet, the demo and the workers.
 */

/**
 * Exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential Backoff And
 * Jitter", 2015): half the exponential delay, plus a random half. A whole fleet losing its broker
 * then spreads its reconnects out instead of stampeding back at once, yet never retries at once.
 */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return exp / 2 + random() * (exp / 2);
}

/** Zero-padded device ids: `sim-00001`. */
export function deviceIdOf(prefix: string, index: number): string {
  return `${prefix}-${String(index + 1).padStart(5, '0')}`;
}
