import type { Log, MetricName, Metrics } from '../../ports/observability.js';

interface CountedMetric {
  readonly name: MetricName;
  readonly value: number;
  readonly dimension?: { readonly name: string; readonly value: string };
}

/** Metrics that add up in memory. */
export class CountingMetrics implements Metrics {
  readonly entries: CountedMetric[] = [];

  count(name: MetricName, value = 1, dimension?: { readonly name: string; readonly value: string }): void {
    this.entries.push(dimension === undefined ? { name, value } : { name, value, dimension });
  }

  /** The sum of `name`, over every dimension, or only over `dimension` when given. */
  total(name: MetricName, dimension?: { readonly name: string; readonly value: string }): number {
    let sum = 0;
    for (const entry of this.entries) {
      if (entry.name !== name) continue;
      if (dimension !== undefined && (entry.dimension?.name !== dimension.name || entry.dimension.value !== dimension.value)) {
        continue;
      }
      sum += entry.value;
    }
    return sum;
  }
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly extra?: Record<string, unknown>;
}

/** A log that keeps its lines. */
export class CapturingLog implements Log {
  readonly entries: LogEntry[] = [];

  debug(message: string, extra?: Record<string, unknown>): void {
    this.push('debug', message, extra);
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.push('info', message, extra);
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.push('warn', message, extra);
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.push('error', message, extra);
  }

  /** The lines at `level`. */
  at(level: LogLevel): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }

  private push(level: LogLevel, message: string, extra: Record<string, unknown> | undefined): void {
    this.entries.push(extra === undefined ? { level, message } : { level, message, extra });
  }
}
