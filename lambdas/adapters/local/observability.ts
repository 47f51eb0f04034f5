import { ConfigError } from '../../domain/errors.js';
import type { Log, MetricName, Metrics } from '../../ports/observability.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

interface StderrLogOptions {
  /** Lowest level written: 'debug', 'info', 'warn' or 'error' (any other value throws ConfigError). */
  readonly level: LogLevel | string;
  /** Names the component in every line (`"name"`), like Powertools Logger's serviceName. */
  readonly name: string;
  /** Where lines go. @default process.stderr */
  readonly out?: { write(line: string): unknown };
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * The local Log: one JSON object per line on stderr (stdout carries the commands' data), with the
 * fields Powertools Logger writes on Lambda (`level`, `message`, `timestamp`, the service name) so a
 * line reads the same in both runtimes. Errors in `extra` are written with name, message, stack and
 * cause, since JSON.stringify would write `{}`.
 */
export function stderrLog(options: StderrLogOptions): Log {
  const min = LOG_LEVELS.indexOf(options.level as LogLevel);
  if (min < 0) {
    throw new ConfigError(`log level: ${JSON.stringify(options.level)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const out = options.out ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const write = (level: LogLevel, message: string, extra?: Record<string, unknown>): void => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const line = { level: level.toUpperCase(), message, timestamp: now().toISOString(), service: options.name, ...extra };
    out.write(`${safeStringify(line)}\n`);
  };
  return {
    debug: (message, extra) => write('debug', message, extra),
    info: (message, extra) => write('info', message, extra),
    warn: (message, extra) => write('warn', message, extra),
    error: (message, extra) => write('error', message, extra),
  };
}

/** JSON that never throws: Errors spelled out, bigints as strings, cycles cut. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) {
      return { name: v.name, message: v.message, stack: v.stack, ...(v.cause === undefined ? {} : { cause: v.cause }) };
    }
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[Circular]';
      seen.add(v);
    }
    return v;
  });
}

/**
 * The local Metrics: in-memory counters. A count with a dimension adds to the metric's total and to
 * its own series, named `Name{dimension=value}`, so a reader gets both the total and the breakdown.
 */
export class CounterMetrics implements Metrics {
  private readonly counters = new Map<string, number>();

  count(name: MetricName, value = 1, dimension?: { readonly name: string; readonly value: string }): void {
    this.add(name, value);
    if (dimension !== undefined) this.add(`${name}{${dimension.name}=${dimension.value}}`, value);
  }

  /** Every counter so far, by name, sorted by name. */
  snapshot(): Readonly<Record<string, number>> {
    return Object.fromEntries([...this.counters.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** One counter's value (0 if never counted): `name` or `Name{dimension=value}`. */
  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  private add(key: string, value: number): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + value);
  }
}
