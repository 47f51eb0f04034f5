/**
 * `npm start`: the whole local stack on 127.0.0.1. Where to connect goes to stdout (with --json, one
 * JSON object per line: `ready`, then `stopped`); logs go to stderr.
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { loadThresholdsFile } from '../../lambdas/config/load-thresholds.js';
import { stderrLog } from '../../lambdas/adapters/local/observability.js';
import { startLocalStack, type LocalStack } from './stack.js';
import { runCli } from './cli/cli-support.js';

/** Stop must finish within this, or the process exits anyway (the stream is durable). */
const STOP_DEADLINE_MS = 2_000;

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('not a port number (0 to 65535)');
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
  .option('--thresholds <file>', 'threshold rules (JSON)', 'config/thresholds.json')
  .option('--webhook <url>', 'also POST every alarm event to this URL')
  .option('--offline-check <seconds>', 'how often the silent-device check runs', positiveSeconds)
  .option('--json', 'machine-readable output on stdout', false)
  .action(async (opts: {
    data: string; mqttPort: number; wsPort: number; httpPort: number; thresholds: string;
    webhook?: string; offlineCheck?: number; json: boolean;
  }) => {
    const log = stderrLog({ name: 'local', level: process.env.LOG_LEVEL ?? 'info' });
    const thresholds = loadThresholdsFile(resolve(opts.thresholds));
    if (opts.webhook !== undefined && !URL.canParse(opts.webhook)) throw new Error(`--webhook: not a URL: ${opts.webhook}`);

    const stack: LocalStack = await startLocalStack({
      dataDir: opts.data,
      mqttPort: opts.mqttPort,
      wsPort: opts.wsPort,
      thresholds,
      log,
      httpPort: opts.httpPort,
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
