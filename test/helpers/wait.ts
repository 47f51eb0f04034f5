/**
 * Waiting in tests: on a condition, never for a fixed time. Each wait names what it waits for, so a
 * timeout says which condition never came ("timed out after 5000 ms waiting for the worker to die").
 */

const POLL_MS = 10;

/** Polls until `check` returns (or resolves to) a value other than undefined, and returns it. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, POLL_MS));
  }
}

/** Polls until `ready()` holds. */
export async function until(ready: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await eventually(async () => ((await ready()) ? true : undefined), timeoutMs, what);
}
