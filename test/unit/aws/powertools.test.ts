import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { powertoolsLog, powertoolsMetrics, withPowertools } from '../../../lambdas/adapters/aws/powertools.js';
import { METRIC } from '../../../lambdas/ports/observability.js';

/** Every JSON line Powertools writes to stdout or stderr (warn and error) while `act` runs. */
async function output(act: () => unknown): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await act();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('powertoolsMetrics', () => {
  beforeEach(() => vi.stubEnv('POWERTOOLS_DEV', ''));
  afterEach(() => vi.unstubAllEnvs());

  it('stores counts until the invocation publishes them', async () => {
    const metrics = new Metrics({ namespace: 'FleetTelemetry', serviceName: 'ingest' });
    const port = powertoolsMetrics(metrics);

    const beforePublish = await output(() => {
      port.count(METRIC.readingsStored, 7);
      port.count(METRIC.readingsRejected);
    });
    const published = await output(() => metrics.publishStoredMetrics());

    expect(beforePublish).toEqual([]);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ ReadingsStored: 7, ReadingsRejected: 1, service: 'ingest' });
    const directive = (published[0]?.['_aws'] as { CloudWatchMetrics: { Metrics: unknown[] }[] }).CloudWatchMetrics[0];
    expect(directive?.Metrics).toEqual([
      { Name: 'ReadingsStored', Unit: 'Count' },
      { Name: 'ReadingsRejected', Unit: 'Count' },
    ]);
  });

  it('sends a count with a dimension at once, without the dimension leaking to stored metrics', async () => {
    const metrics = new Metrics({ namespace: 'FleetTelemetry', serviceName: 'alarms' });
    const port = powertoolsMetrics(metrics);

    const single = await output(() => port.count(METRIC.alarmsRaised, 1, { name: 'severity', value: 'critical' }));
    port.count(METRIC.alarmsCleared);
    const stored = await output(() => metrics.publishStoredMetrics());

    expect(single).toHaveLength(1);
    expect(single[0]).toMatchObject({ AlarmsRaised: 1, severity: 'critical' });
    expect(stored[0]).toMatchObject({ AlarmsCleared: 1 });
    expect(stored[0]).not.toHaveProperty('severity');
  });
});

describe('powertoolsLog', () => {
  it('writes structured lines with the extra fields, at each level', async () => {
    const logger = new Logger({ serviceName: 'ingest', logLevel: 'DEBUG' });
    const log = powertoolsLog(logger);

    const lines = await output(() => {
      log.debug('batch received', { records: 3 });
      log.info('stored');
      log.warn('rejected', { reason: 'metrics.t: not a finite number' });
      log.error('failed', { sequenceNumber: '42' });
    });

    expect(lines.map(({ level, message, records, reason, sequenceNumber }) => ({ level, message, records, reason, sequenceNumber }))).toEqual([
      { level: 'DEBUG', message: 'batch received', records: 3, reason: undefined, sequenceNumber: undefined },
      { level: 'INFO', message: 'stored', records: undefined, reason: undefined, sequenceNumber: undefined },
      { level: 'WARN', message: 'rejected', records: undefined, reason: 'metrics.t: not a finite number', sequenceNumber: undefined },
      { level: 'ERROR', message: 'failed', records: undefined, reason: undefined, sequenceNumber: '42' },
    ]);
  });
});

describe('withPowertools', () => {
  beforeEach(() => vi.stubEnv('POWERTOOLS_DEV', ''));
  afterEach(() => vi.unstubAllEnvs());

  it('publishes the metrics stored by an invocation that throws, and rethrows', async () => {
    const metrics = new Metrics({ namespace: 'FleetTelemetry', serviceName: 'ingest' });
    const failure = new Error('no such table');
    const handler = withPowertools(
      async () => {
        powertoolsMetrics(metrics).count(METRIC.recordsRetried, 3);
        throw failure;
      },
      { logger: new Logger({ serviceName: 'ingest' }), metrics },
    );
    let thrown: unknown;

    const lines = await output(async () => {
      thrown = await handler({}).catch((e: unknown) => e);
    });

    expect(thrown).toBe(failure);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ RecordsRetried: 3 });
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('publishes nothing, and warns about nothing, after an invocation with no metrics', async () => {
    const metrics = new Metrics({ namespace: 'FleetTelemetry', serviceName: 'ingest' });
    const handler = withPowertools(async (event: { n: number }) => event.n + 1, { logger: new Logger(), metrics });
    let result: unknown;

    const lines = await output(async () => {
      result = await handler({ n: 1 });
    });

    expect(result).toBe(2);
    expect(lines).toEqual([]);
  });
});
