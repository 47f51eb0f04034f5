/**
 * `npm run simulate -- --devices N --rate R --duration S [...]`: the fleet simulator's command line.
 * Progress on stderr, the summary on stdout (`--json` for an object). Errors as every local command
 * reports them (infra/cli/cli-support.ts): one line `error: <reason>` on stderr, exit 2 for a
 * bad flag or combination, 1 for a run that failed (unreachable broker, readings missing under
 * `--verify`); 130 when interrupted twice.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT_CODES, runCli } from '../infra/cli/cli-support.js';
import { DEFAULT_LOCAL_ENDPOINT, openFileLimit } from './connection.js';
import { SimulatorUsageError, VerifyError } from './errors.js';
import type { FleetSummary } from './summary.js';
import { runFleet } from './fleet.js';
import type { FleetOptions } from './options.js';
import { resolveFleetOptions } from './options.js';
import { PROFILE_CHOICES, PROFILES } from './profiles/index.js';
import type { Anomaly, AnomalyKind, Scenario } from './scenario.js';
import { loadScenarioFile, parseAnomalyFlag } from './scenario.js';
import { runWorkers, workerCount } from './workers.js';

/** Exit code after a second interrupt (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

const PROGRAM = 'simulate';

function number(what: string, check: (n: number) => boolean = Number.isFinite) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`expected ${what}.`);
    return n;
  };
}
const positive = number('a number above 0', (n) => n > 0);
const nonNegative = number('a number of 0 or more', (n) => n >= 0);
const count = number('a whole number of 1 or more', (n) => Number.isInteger(n) && n >= 1);
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The command, without running it (tests call `parseArgs`). */
export function buildCommand(): Command {
  const kinds = Object.values(PROFILES)
    .map((p) => `  ${p.kind.padEnd(11)} ${p.description}`)
    .join('\n');
  return new Command(PROGRAM)
    .description('Simulate a fleet of MQTT devices against the local stack or AWS IoT Core.')
    .addOption(new Option('--devices <N>', 'simulated devices').argParser(count).default(10))
    .addOption(new Option('--rate <R>', 'readings per second per device (0.1 = one every 10 s)').argParser(positive).default(1))
    .addOption(new Option('--duration <S>', 'seconds of readings').argParser(positive).default(60))
    .addOption(new Option('--target <T>', 'local stack or AWS IoT Core').choices(['local', 'aws']).default('local'))
    .option('--endpoint <URL>', `broker; local default ${DEFAULT_LOCAL_ENDPOINT}; aws: your IoT data endpoint (port 8883, or 443 with ALPN)`)
    .option('--data <DIR>', "the local stack's data folder: registers the devices in devices.db (default ./data if it has one)")
    .option('--no-register', 'do not register devices (a broker without authentication)')
    .addOption(
      new Option('--topic <T>', 'telemetry topic: basic-ingest ($aws/rules/<rule>/dt/fleet/<id>/telemetry, no messaging charge) or plain (default: basic-ingest on aws, plain locally)').choices([
        'plain',
        'basic-ingest',
      ]),
    )
    .option('--certs <DIR>', 'aws: <deviceId>.cert.pem, <deviceId>.private.key, AmazonRootCA1.pem')
    .addOption(new Option('--profile <KIND>', 'device kind, or mixed (the kinds in turn)').choices([...PROFILE_CHOICES]).default('mixed'))
    .option('--scenario <FILE>', 'JSON scenario of anomalies: {"anomalies":[{"kind":"overheat","share":0.05,"at":60}]}')
    .option('--overheat <SPEC>', 'overheat SHARE@SECONDS[+SECONDS] or IDS@SECONDS (e.g. 5%@60); repeatable', collect)
    .option('--battery-low <SPEC>', 'battery below 3.3 V, same SPEC; repeatable', collect)
    .option('--silent <SPEC>', 'devices stop sending, same SPEC (e.g. sim-00003@30+400); repeatable', collect)
    .addOption(new Option('--qos <Q>', 'telemetry QoS').choices(['0', '1']).default('1'))
    .addOption(new Option('--ramp <N>', 'new connections per second (0: all at once)').argParser(nonNegative).default(500))
    .addOption(
      new Option('--connect-rate <N>', "CONNECTs per second at most, reconnects included (aws default 500: the account's quota; raise it only if AWS raised yours)").argParser(positive),
    )
    .option('--seed <S>', 'seed: the same seed gives the same readings (default random, printed)')
    .option('--prefix <P>', 'device ids are <P>-00001...; the operator is <P>-operator', 'sim')
    .addOption(new Option('--inflight <N>', 'QoS 1 publishes awaiting PUBACK per device').argParser(count).default(16))
    .addOption(new Option('--buffer <N>', 'readings buffered per device while disconnected').argParser(count).default(1000))
    .addOption(new Option('--jitter <X>', 'spread of each reading, share of the period').argParser(nonNegative).default(0.2))
    .addOption(new Option('--keepalive <S>', 'MQTT keepalive seconds').argParser(nonNegative).default(60))
    .addOption(new Option('--connect-timeout <MS>', 'one connection attempt, ms').argParser(positive).default(10_000))
    .addOption(new Option('--connect-attempts <N>', 'attempts to reach the broker before giving up').argParser(count).default(5))
    .addOption(new Option('--backoff-initial <MS>', 'first reconnect delay, ms (doubles, with jitter)').argParser(positive).default(500))
    .addOption(new Option('--backoff-max <MS>', 'longest reconnect delay, ms').argParser(positive).default(30_000))
    .addOption(new Option('--drain-timeout <S>', 'seconds to wait for buffered/in-flight readings at the end').argParser(nonNegative).default(10))
    .addOption(new Option('--linger <S>', 'seconds to keep counting alarms after the last PUBACK').argParser(nonNegative).default(2))
    .option('--no-alarms', 'do not subscribe as an operator to count alarm events')
    .option('--verify', "check through the stack's store that every acknowledged reading was stored once (locally store.db; on aws the stack's readings table)")
    .addOption(new Option('--verify-sample <N>', 'check only N devices of the fleet (every reading of each; aws default 1000)').argParser(count))
    .option('--stack <NAME>', 'aws, --verify: the deployed stack (default FleetTelemetry)')
    .option('--region <R>', "aws, --verify: its region (default: the AWS SDK's chain)")
    .addOption(new Option('--verify-timeout <S>', 'seconds --verify waits for the pipeline').argParser(positive).default(30))
    .addOption(new Option('--source-addresses <N>', 'spread connections over 127.0.0.1..N (default: one per 20,000)').argParser(count))
    .addOption(new Option('--start-hour <H>', 'hour of day the daily cycles start at (default from the seed)').argParser(nonNegative))
    .addOption(
      new Option('--workers <K>', 'split the fleet across K child processes (auto: enough to keep each under the open-file limit)').argParser((value: string) => {
        if (value === 'auto') return 'auto' as const;
        return count(value);
      }),
    )
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress on stderr')
    .addOption(new Option('--progress-interval <MS>', 'progress every MS (default 1000 on a terminal, 5000 otherwise)').argParser(positive))
    .addHelpText('after', `\nDevice kinds:\n${kinds}\n\nExamples:\n  npm run simulate -- --devices 100\n  npm run simulate -- --devices 1000 --rate 0.1 --duration 600 --overheat 5%@60 --silent 1%@120 --json\n  npm run simulate -- --target aws --endpoint xxxx-ats.iot.eu-west-1.amazonaws.com:443 --certs ./certs --devices 10`)
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError(false)
    // Throw instead of exiting; the caller prints the one line (runCli does).
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
}

/** Parsed flags, as commander gives them. */
interface Flags {
  devices: number;
  rate: number;
  duration: number;
  target: 'local' | 'aws';
  endpoint?: string;
  data?: string;
  register: boolean;
  certs?: string;
  topic?: 'plain' | 'basic-ingest';
  profile: FleetOptions['profile'];
  scenario?: string;
  overheat?: string[];
  batteryLow?: string[];
  silent?: string[];
  qos: '0' | '1';
  ramp: number;
  connectRate?: number;
  seed?: string;
  prefix: string;
  inflight: number;
  buffer: number;
  jitter: number;
  keepalive: number;
  connectTimeout: number;
  connectAttempts: number;
  backoffInitial: number;
  backoffMax: number;
  drainTimeout: number;
  linger: number;
  alarms: boolean;
  verify?: boolean;
  verifySample?: number;
  stack?: string;
  region?: string;
  verifyTimeout: number;
  sourceAddresses?: number;
  startHour?: number;
  workers?: number | 'auto';
  json?: boolean;
  quiet?: boolean;
  progressInterval?: number;
}

/** What the command line asks for. */
export interface CliRequest {
  readonly options: FleetOptions;
  readonly json: boolean;
  /** Worker processes (`--workers`); absent: the fleet runs in this process. */
  readonly workers?: number | 'auto';
  /** Why registration is off, to tell the user (local target without a data folder). */
  readonly notice?: string;
}

/**
 * Turns argv (without node and the script) into fleet options. Throws commander's error for a
 * malformed flag and {@link SimulatorUsageError} for a combination that cannot work.
 */
export function parseArgs(argv: readonly string[], cwd = process.cwd()): CliRequest {
  const command = buildCommand();
  command.parse([...argv], { from: 'user' });
  return requestFrom(command.opts<Flags>(), cwd);
}

/** Fleet options from parsed flags (and the current folder, for the default `./data`). */
function requestFrom(f: Flags, cwd: string): CliRequest {
  const anomalies: Anomaly[] = [];
  if (f.scenario !== undefined) anomalies.push(...loadScenarioFile(f.scenario).anomalies);
  const flagged: [AnomalyKind, string[] | undefined][] = [
    ['overheat', f.overheat],
    ['battery-low', f.batteryLow],
    ['silent', f.silent],
  ];
  for (const [kind, specs] of flagged) for (const spec of specs ?? []) anomalies.push(parseAnomalyFlag(kind, spec));
  const scenario: Scenario = { anomalies };

  let dataDir: string | undefined;
  let notice: string | undefined;
  if (f.target === 'local' && f.register) {
    if (f.data !== undefined) {
      dataDir = f.data;
      if (!existsSync(join(f.data, 'devices.db'))) {
        throw new SimulatorUsageError('--data', `no devices.db in ${f.data}: start the local stack with --data ${f.data}, or pass --no-register`);
      }
    } else if (existsSync(join(cwd, 'data', 'devices.db'))) {
      dataDir = join(cwd, 'data');
    } else {
      notice = 'no ./data/devices.db: connecting without credentials (pass --data DIR to register devices in a local stack)';
    }
  } else if (f.data !== undefined && f.target === 'local') {
    // --no-register with --data: still where --verify reads the store.
    dataDir = f.data;
  }

  const options: FleetOptions = {
    devices: f.devices,
    rate: f.rate,
    durationS: f.duration,
    target: f.target,
    profile: f.profile,
    scenario,
    qos: f.qos === '0' ? 0 : 1,
    rampPerS: f.ramp,
    prefix: f.prefix,
    inflight: f.inflight,
    bufferSize: f.buffer,
    jitter: f.jitter,
    keepaliveS: f.keepalive,
    connectTimeoutMs: f.connectTimeout,
    connectAttempts: f.connectAttempts,
    backoffInitialMs: f.backoffInitial,
    backoffMaxMs: f.backoffMax,
    drainTimeoutS: f.drainTimeout,
    lingerS: f.linger,
    alarms: f.alarms,
    verify: f.verify ?? false,
    register: f.register,
    verifyTimeoutS: f.verifyTimeout,
    ...(f.endpoint === undefined ? {} : { endpoint: f.endpoint }),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(f.target === 'aws' && f.data !== undefined ? { dataDir: f.data } : {}),
    ...(f.certs === undefined ? {} : { certsDir: f.certs }),
    ...(f.topic === undefined ? {} : { topic: f.topic }),
    ...(f.connectRate === undefined ? {} : { connectRate: f.connectRate }),
    ...(f.verifySample === undefined ? {} : { verifySample: f.verifySample }),
    ...(f.stack === undefined ? {} : { stack: f.stack }),
    ...(f.region === undefined ? {} : { region: f.region }),
    ...(f.seed === undefined ? {} : { seed: f.seed }),
    ...(f.sourceAddresses === undefined ? {} : { sourceAddresses: f.sourceAddresses }),
    ...(f.startHour === undefined ? {} : { startHour: f.startHour }),
    ...(f.quiet ? {} : { progress: f.progressInterval === undefined ? {} : { intervalMs: f.progressInterval } }),
  };
  // Validate now, so a bad combination is reported before anything connects.
  resolveFleetOptions(options);
  if (f.workers !== undefined) workerCount(f.workers, f.devices, openFileLimit());
  return { options, json: f.json ?? false, ...(f.workers === undefined ? {} : { workers: f.workers }), ...(notice === undefined ? {} : { notice }) };
}

const fmt = (n: number | null): string => (n === null ? '-' : n.toLocaleString('en-US'));
const ms = (n: number | null): string => (n === null ? '-' : `${n} ms`);

/** The human-readable summary. */
export function formatSummary(s: FleetSummary): string {
  const lines = [
    `devices ${fmt(s.devices)}, most connected at once ${fmt(s.connected)} (${s.endpoint}, QoS ${s.qos}, ${s.rate}/s each, ${(s.durationMs / 1000).toFixed(1)} s)`,
    `readings: generated ${fmt(s.generated)}, sent ${fmt(s.sent)}, acked ${fmt(s.acked)}, resent ${fmt(s.resent)}, buffered while offline ${fmt(s.offline)}, dropped ${fmt(s.dropped)}, unsent ${fmt(s.unsent)}`,
    `publish to PUBACK: p50 ${ms(s.latencyMs.p50)}, p99 ${ms(s.latencyMs.p99)}, max ${ms(s.latencyMs.max)}`,
    s.alarms === null
      ? 'alarms: not subscribed'
      : `alarms received: ${fmt(s.alarms)} (raised ${fmt(s.alarmsRaised)}, cleared ${fmt(s.alarmsCleared)})`,
    `errors ${fmt(s.errors)}, reconnects ${fmt(s.reconnects)}${s.lastError === null ? '' : ` (last: ${s.lastError})`}`,
    `simulator: cpu ${(s.cpu.userMs / 1000).toFixed(1)} s user + ${(s.cpu.systemMs / 1000).toFixed(1)} s system (${s.cpu.percentOfOneCore}% of one core), rss ${s.memory.rssMiB} MiB (peak ${s.memory.peakRssMiB} MiB)`,
    `seed ${s.seed}${s.workers === undefined ? '' : `, ${s.workers} worker processes (figures are their sum; latency from their merged histograms)`}`,
  ];
  if (s.verify !== undefined) {
    const v = s.verify;
    lines.push(
      `verify: ${fmt(v.stored)}/${fmt(v.checked)} acknowledged readings stored${v.sampledDevices === undefined ? '' : ` (of ${fmt(v.sampledDevices)} sampled devices)`}, ${fmt(v.missing)} missing, ${fmt(v.duplicates)} stored twice` +
        (v.missingExamples.length === 0 ? '' : ` (e.g. ${v.missingExamples.map((m) => `${m.deviceId}#${m.seq}`).join(', ')})`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the fleet a request describes and prints the summary; a failed verification throws. */
async function run(request: CliRequest): Promise<void> {
  if (request.notice !== undefined && request.options.progress !== undefined) process.stderr.write(`${PROGRAM}: ${request.notice}\n`);
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED);
    process.stderr.write(`\n${PROGRAM}: stopping (draining; interrupt again to quit now)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const options = { ...request.options, signal: abort.signal };
    const summary = request.workers === undefined ? await runFleet(options) : await runWorkers(options, request.workers);
    process.stdout.write(request.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    const v = summary.verify;
    if (v !== undefined && !v.ok) {
      throw new VerifyError(`${v.missing} of ${v.checked} acknowledged readings are not in the store after ${Math.round(v.waitedMs / 1000)} s`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `npm run simulate -- --help | head`: a closed pipe is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_CODES.ok);
  });
  const program = buildCommand().action(async () => {
    await run(requestFrom(program.opts<Flags>(), process.cwd()));
  });
  await runCli(program);
}
