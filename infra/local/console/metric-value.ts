/**
 * Reading one metric out of a reading's `metrics` object, on the server and in the browser.
 *
 * Metric names come from devices, and the decoder accepts any name of [A-Za-z0-9_.-], so
 * `constructor`, `toString`, `valueOf`, `hasOwnProperty` and `__proto__` are valid metrics. A plain
 * `metrics[name]` on a reading that lacks such a metric reads Object.prototype instead (a function,
 * or the prototype itself for `__proto__`): only own properties are metrics.
 */
export function metricValue(metrics: Readonly<Record<string, number>>, name: string): number | undefined {
  return Object.hasOwn(metrics, name) ? metrics[name] : undefined;
}
