import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Log, MetricName, Metrics } from '../../ports/observability.js';

/** The Log port on a Powertools Logger (structured JSON lines in CloudWatch Logs). */
export function powertoolsLog(logger: Logger): Log {
  return {
    debug: (message, extra) => (extra === undefined ? logger.debug(message) : logger.debug(message, extra)),
    info: (message, extra) => (extra === undefined ? logger.info(message) : logger.info(message, extra)),
    warn: (message, extra) => (extra === undefined ? logger.warn(message) : logger.warn(message, extra)),
    error: (message, extra) => (extra === undefined ? logger.error(message) : logger.error(message, extra)),
  };
}

/**
 * The Metrics port on Powertools Metrics (CloudWatch embedded metric format), every metric a Count.
 * Without a dimension the count is stored and leaves with the invocation's publishStoredMetrics();
 * with one, it goes out at once as a single metric, so the dimension does not stick to the
 * invocation's other metrics (Powertools dimensions apply to every stored metric).
 */
export function powertoolsMetrics(metrics: PowertoolsMetrics): Metrics {
  return {
    count(name: MetricName, value = 1, dimension?: { readonly name: string; readonly value: string }): void {
      if (dimension === undefined) {
        metrics.addMetric(name, MetricUnit.Count, value);
        return;
      }
      const single = metrics.singleMetric();
      single.addDimension(dimension.name, dimension.value);
      single.addMetric(name, MetricUnit.Count, value);
    },
  };
}

/**
 * The Lambda entry point around `handle`: adds the invocation context to the logger's keys and
 * publishes the invocation's stored metrics when it ends, whether it succeeded or threw (what
 * Powertools' logMetrics middleware does, without middy).
 */
export function withPowertools<E, R>(
  handle: (event: E) => Promise<R>,
  tools: { readonly logger: Logger; readonly metrics: PowertoolsMetrics },
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (context !== undefined) tools.logger.addContext(context);
    try {
      return await handle(event);
    } finally {
      // An invocation with nothing to report publishes nothing (Powertools would warn on every one).
      if (tools.metrics.hasStoredMetrics()) tools.metrics.publishStoredMetrics();
    }
  };
}
