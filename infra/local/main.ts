/**
 * `npm start`: the whole local stack on 127.0.0.1. Where to connect goes to stdout (with --json, one
 * JSON object per line: `ready`, then `stopped`); logs go to stderr.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import { stderrLog } from '../../lambdas/adapters/local/observability.js';
import { startLocalStack, type LocalStack } from './stack.js';
import { runCli, UsageError } from '../cli/cli-support.js';
import { DEFAULT_MIN_FREE_BYTES } from './stream/index.js';
import { DEFAULT_CONNECTION_LIMITS } from './broker/index.js';

/** Stop must finish within this, or the process exits anyway (the stream is durable). */
const STOP_DEADLINE_MS = 2_000;

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('not a port number (0 to 65535)');
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** `256MiB`, `64m`, `1GiB`, `0` (binary units; plain bytes without one). */
function size(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(value.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined) throw new InvalidArgumentError('not a size (for example 256MiB, 64MiB, 1GiB, or 0 to disable)');
  return Math.round(Number(match[1]) * unit);
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('not a positive integer');
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('not a positive number of seconds');
  return n;
}

const program = new Command('start')
  .description('Run the whole fleet-telemetry pipeline locally: MQTT broker, IoT rule, stream, both consumers, offline check, SQLite store.')
  .option('--data <dir>', 'data directory (devices.db, stream.db, store.db)', './data')
  .option('--mqtt-port <n>', 'MQTT over TCP port (0: any free port)', port, 1883)
  .option('--ws-port <n>', 'MQTT over WebSocket port (0: any free port)', port, 8083)
  .option('--http-port <n>', 'HTTP port of the console, the fleet dashboard, on 127.0.0.1 behind a printed token (0: any free port)', port, 8080)
  .option('--thresholds <file>', 'threshold rules (JSON), watched: a valid change is in force within seconds, an invalid one refused', 'config/thresholds.json')
  .option('--webhook <url>', 'also POST every alarm event to this URL')
  .option('--offline-check <seconds>', 'how often the silent-device check runs', positiveSeconds)
  .addOption(
    new Option('--min-free <size>', 'refuse new telemetry while the data directory\'s file system has less free space than this, so what was acknowledged can still be stored (0: off)')
      .argParser(size)
      .default(DEFAULT_MIN_FREE_BYTES, '256MiB'),
  )
  .option('--max-connections <n>', 'open MQTT connections at most', positiveInteger, DEFAULT_CONNECTION_LIMITS.maxConnections)
  .option('--max-unauthenticated <n>', 'MQTT connections authenticated at once; more wait unread', positiveInteger, DEFAULT_CONNECTION_LIMITS.maxUnauthenticated)
  .option('--json', 'machine-readable output on stdout', false)
  .action(async (opts: {
    data: string; mqttPort: number; wsPort: number; httpPort: number; thresholds: string;
    webhook?: string; offlineCheck?: number; minFree: number; maxConnections: number; maxUnauthenticated: number; json: boolean;
  }) => {
    const log = stderrLog({ name: 'local', level: process.env.LOG_LEVEL ?? 'info' });
    const thresholdsFile = resolve(opts.thresholds);
    const thresholds = loadThresholdsFile(thresholdsFile);
    if (opts.webhook !== undefined && !URL.canParse(opts.webhook)) throw new UsageError(`--webhook: not a URL: ${opts.webhook}`);

    const stack: LocalStack = await startLocalStack({
      dataDir: opts.data,
      mqttPort: opts.mqttPort,
      wsPort: opts.wsPort,
      thresholds,
      thresholdsFile,
      log,
      httpPort: opts.httpPort,
      minFreeBytes: opts.minFree,
      maxConnections: opts.maxConnections,
      maxUnauthenticated: opts.maxUnauthenticated,
      ...(opts.webhook ? { webhookUrl: opts.webhook } : {}),
      ...(opts.offlineCheck ? { offlineCheckIntervalMs: opts.offlineCheck * 1000 } : {}),
    });

    const ready = {
      event: 'ready',
      mqtt: `mqtt://127.0.0.1:${stack.mqttPort}`,
      ws: stack.wsPort === undefined ? null : `ws://127.0.0.1:${stack.wsPort}`,
      console: stack.consoleUrl ?? null,
      data: stack.dataDir,
      pid: process.pid,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(ready)}\n`);
    } else {
      process.stdout.write(
        [
          'fleet-telemetry local stack is running',
          `  MQTT           ${ready.mqtt}`,
          `  MQTT over WS   ${ready.ws ?? '(off)'}`,
          `  console        ${ready.console ?? '(off)'}`,
          '                 (the link carries the access token: keep it to yourself)',
          `  data           ${ready.data}`,
          '',
          'Add a device:        npm run devices -- add sensor-0001 --type env-sensor',
          'Simulate a fleet:    npm run simulate -- --devices 100 --rate 1 --duration 60',
          'See what arrived:    npm run query -- readings --limit 10',
          'Work the alarms:     npm run alarms -- list   (an operator: npm run devices -- add ID --role operator --save-credential)',
          'Stop:                Ctrl-C',
          '',
        ].join('\n'),
      );
    }

    let signalled = false;
    const shutdown = (signal: string) => {
      if (signalled) return;
      signalled = true;
      log.info('stopping', { signal });
      const deadline = setTimeout(() => {
        log.warn('stop took too long; exiting (the stream is durable: the next start resumes)');
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      stack.stop().then(
        () => {
          if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'stopped' })}\n`);
          process.exit(0);
        },
        (error: unknown) => {
          log.error('stop failed', { error: String(error) });
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });

await runCli(program);
