/**
 * The fleet's options, their defaults and units, validated once (unknown keys rejected), for the
 * CLI and for programmatic callers (the demo, end-to-end tests, benchmarks) alike.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AWS_IOT_LIMITS, awsLimitViolations } from './aws-limits.js';
import { SimulatorUsageError } from './errors.js';
import { PROFILE_CHOICES } from './profiles/index.js';
import type { Scenario } from './scenario.js';
import { parseScenario } from './scenario.js';

/** Live progress: where, how often, and whether to redraw one line in place (a terminal) or print lines. */
export interface ProgressOptions {
  /** @default process.stderr */
  readonly stream?: NodeJS.WritableStream;
  /** Redraw in place. @default whether `stream` is a TTY */
  readonly tty?: boolean;
  /** @default 1000 on a terminal, 5000 otherwise (ms) */
  readonly intervalMs?: number;
}

const deviceIdPrefix = /^[A-Za-z0-9_:-]{1,100}$/;

const schema = z.strictObject({
  /** Simulated devices. */
  devices: z.number().int().min(1).max(1_000_000),
  /** Readings per second per device (0.1 = one every 10 s). */
  rate: z.number().gt(0).max(1000),
  /** Seconds of readings. */
  durationS: z.number().gt(0),
  /** `local`: the local stack (registers its devices); `aws`: AWS IoT Core with per-device certificates. @default 'local' */
  target: z.enum(['local', 'aws']).default('local'),
  /** Broker. @default mqtt://127.0.0.1:1883 locally; required for aws */
  endpoint: z.string().min(1).optional(),
  /** The local stack's data folder: devices are registered in `devices.db` there, `--verify` reads `store.db`. Absent: no registration (a broker without auth). */
  dataDir: z.string().min(1).optional(),
  /** With dataDir: register the devices and the operator there (with new passwords). @default true */
  register: z.boolean().default(true),
  /** aws: folder with `<deviceId>.cert.pem`, `<deviceId>.private.key`, `AmazonRootCA1.pem`. */
  certsDir: z.string().min(1).optional(),
  /**
   * Telemetry topic: `plain` (`dt/fleet/<id>/telemetry`) or `basic-ingest` (the same behind
   * `$aws/rules/fleet_telemetry_to_stream/`: straight to the rule, no IoT messaging charge).
   * @default 'basic-ingest' with target aws, 'plain' locally
   */
  topic: z.enum(['plain', 'basic-ingest']).optional(),
  /** Device kind(s). @default 'mixed' */
  profile: z.enum(PROFILE_CHOICES).default('mixed'),
  /** Scripted anomalies. @default none */
  scenario: z.unknown().optional(),
  /** MQTT QoS of telemetry. @default 1 */
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
  /** New connections per second during start-up; 0: all at once. @default 500 */
  rampPerS: z.number().min(0).default(500),
  /**
   * CONNECTs per second, reconnects included, across the whole run (workers share it). With target
   * aws also one CONNECT per client id per second and at most 100 publishes per second per
   * connection. @default 500 (AWS IoT's account quota) with target aws; unlimited locally
   */
  connectRate: z.number().gt(0).optional(),
  /** Seed of every reading. @default random, reported in the summary */
  seed: z.string().min(1).optional(),
  /** Device ids are `<prefix>-00001`...; the operator is `<prefix>-operator`. @default 'sim' */
  prefix: z.string().regex(deviceIdPrefix, 'letters, digits, _ : - only').default('sim'),
  /** QoS 1 publishes awaiting PUBACK per device. @default 16 */
  inflight: z.number().int().min(1).max(1000).default(16),
  /** Readings buffered per device while disconnected; the oldest are dropped beyond. @default 1000 */
  bufferSize: z.number().int().min(1).max(1_000_000).default(1000),
  /** Spread of each reading around its nominal time, share of the period. @default 0.2 (+-10%) */
  jitter: z.number().min(0).max(0.9).default(0.2),
  /** MQTT keepalive (s). @default 60 */
  keepaliveS: z.number().int().min(0).max(65_535).default(60),
  /** One connection attempt's timeout (ms). @default 10000 */
  connectTimeoutMs: z.number().int().min(100).default(10_000),
  /** Attempts to reach the broker at start before giving up. @default 5 */
  connectAttempts: z.number().int().min(1).max(100).default(5),
  /** Reconnect backoff: first delay and cap (ms); exponential with jitter in between. @default 500 and 30000 */
  backoffInitialMs: z.number().int().min(1).default(500),
  backoffMaxMs: z.number().int().min(1).default(30_000),
  /** After the last reading, how long to wait for buffered and in-flight readings (s). @default 10 */
  drainTimeoutS: z.number().min(0).default(10),
  /** After draining, how long to keep counting alarm events (s). @default 2 */
  lingerS: z.number().min(0).default(2),
  /** Subscribe as an operator and count alarm events. @default true (local); on aws only if `<prefix>-operator` has a certificate */
  alarms: z.boolean().default(true),
  /** Check through the local store that every acknowledged reading was stored. Needs dataDir. @default false */
  verify: z.boolean().default(false),
  /**
   * With `verify`: check at most this many devices (drawn from the seed), every acknowledged reading
   * of each. @default all locally; 1000 on AWS (each device is a query per poll there)
   */
  verifySample: z.number().int().min(1).optional(),
  /** aws, with `verify`: the deployed stack whose readings table is read (CloudFormation stack name). @default FleetTelemetry */
  stack: z.string().min(1).optional(),
  /** aws, with `verify`: its region. @default the AWS SDK's chain (AWS_REGION...) */
  region: z.string().min(1).optional(),
  /** How long `verify` waits for the pipeline (s). @default 30 */
  verifyTimeoutS: z.number().gt(0).default(30),
  /** Local source addresses (127.0.0.1..N) to spread connections over; absent: one per 20,000 connections on loopback. */
  sourceAddresses: z.number().int().min(1).max(254).optional(),
  /** Hour of day (0-24) the daily cycles start at. @default drawn from the seed */
  startHour: z.number().min(0).lt(24).optional(),
  /**
   * Run only devices `first` to `first + count - 1` of the fleet of `devices` (a worker of
   * `--workers`): ids, readings, anomalies and ramp slots are those of the whole fleet.
   */
  shard: z.strictObject({ first: z.number().int().min(0), count: z.number().int().min(1) }).optional(),
  /** Passwords by device id (and the operator's), registered already by the workers' coordinator. */
  credentials: z.record(z.string(), z.string()).optional(),
  /** Progress snapshots carry the interval's latency histogram (workers send it to the coordinator). */
  progressHistograms: z.boolean().default(false),
  /** Live progress; absent: none. */
  progress: z.custom<ProgressOptions>((v) => typeof v === 'object' && v !== null).optional(),
  /** Called with a snapshot at each progress interval (also without `progress`). */
  onProgress: z.custom<(snapshot: unknown) => void>((v) => typeof v === 'function').optional(),
  /** Stops the run early (as if the duration had passed: drain, then summary). */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
});

/** Options of {@link runFleet} (see the schema for units and defaults). */
export type FleetOptions = z.input<typeof schema> & { readonly scenario?: Scenario };

/** Options after defaults and validation. */
export type ResolvedFleetOptions = Omit<z.output<typeof schema>, 'scenario' | 'seed' | 'endpoint' | 'topic' | 'connectRate'> & {
  /** Undefined: connects are not paced (locally, unless asked). */
  readonly connectRate: number | undefined;
  readonly topic: 'plain' | 'basic-ingest';
  readonly seed: string;
  readonly endpoint: string;
  readonly scenario: Scenario;
};

/** Devices `--verify` checks on AWS unless told: each is a query per poll of the readings table. */
const AWS_VERIFY_SAMPLE_DEVICES = 1000;

/** Names of options as CLI flags, so an error from either says what the user typed. */
const FLAG_NAMES: Record<string, string> = {
  durationS: '--duration',
  rampPerS: '--ramp',
  dataDir: '--data',
  certsDir: '--certs',
  bufferSize: '--buffer',
  keepaliveS: '--keepalive',
  connectTimeoutMs: '--connect-timeout',
  connectAttempts: '--connect-attempts',
  backoffInitialMs: '--backoff-initial',
  backoffMaxMs: '--backoff-max',
  drainTimeoutS: '--drain-timeout',
  lingerS: '--linger',
  verifyTimeoutS: '--verify-timeout',
  sourceAddresses: '--source-addresses',
  connectRate: '--connect-rate',
  verifySample: '--verify-sample',
  startHour: '--start-hour',
};

/** The flag an option comes from (`rampPerS` -> `--ramp`). */
export function flagName(option: string): string {
  return FLAG_NAMES[option] ?? `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Validates options and fills in defaults; throws {@link SimulatorUsageError} naming the option. */
export function resolveFleetOptions(options: FleetOptions): ResolvedFleetOptions {
  const result = schema.safeParse(options);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path[0];
    const where = issue?.code === 'unrecognized_keys' ? `option ${issue.keys.join(', ')}` : flagName(String(key ?? 'options'));
    throw new SimulatorUsageError(where, issue?.code === 'unrecognized_keys' ? 'unknown' : (issue?.message ?? 'invalid'), { cause: result.error });
  }
  const o = result.data;
  if (o.target === 'aws') {
    if (o.endpoint === undefined) throw new SimulatorUsageError('--endpoint', 'required with --target aws (your AWS IoT data endpoint, e.g. xxxx-ats.iot.eu-west-1.amazonaws.com)');
    if (o.certsDir === undefined) throw new SimulatorUsageError('--certs', 'required with --target aws (a folder of <deviceId>.cert.pem, <deviceId>.private.key and AmazonRootCA1.pem)');
    if (o.dataDir !== undefined) throw new SimulatorUsageError('--data', 'only with --target local: on AWS, devices are things registered with their certificates');
    const [violation] = awsLimitViolations({ ...o, connectRate: o.connectRate ?? AWS_IOT_LIMITS.connectsPerSecondPerAccount });
    if (violation !== undefined) throw new SimulatorUsageError(violation.flag, violation.reason);
  } else if (o.certsDir !== undefined) {
    throw new SimulatorUsageError('--certs', 'only with --target aws');
  } else if (o.stack !== undefined || o.region !== undefined) {
    throw new SimulatorUsageError(o.stack !== undefined ? '--stack' : '--region', 'only with --target aws (where --verify reads the deployed stack)');
  }
  if (o.verify && o.target === 'local' && o.dataDir === undefined) throw new SimulatorUsageError('--verify', 'needs --data DIR (the local stack\'s data folder, where store.db is)');
  if (o.shard !== undefined && o.shard.first + o.shard.count > o.devices) {
    throw new SimulatorUsageError('shard', `devices ${o.shard.first} to ${o.shard.first + o.shard.count - 1} are beyond a fleet of ${o.devices}`);
  }
  if (o.backoffMaxMs < o.backoffInitialMs) {
    throw new SimulatorUsageError('--backoff-max', `must be at least --backoff-initial (${o.backoffInitialMs} ms), got ${o.backoffMaxMs}`);
  }
  const { scenario, seed, endpoint, topic, connectRate, verifySample, ...rest } = o;
  const sample = verifySample ?? (o.target === 'aws' ? AWS_VERIFY_SAMPLE_DEVICES : undefined);
  return {
    ...rest,
    ...(sample === undefined ? {} : { verifySample: sample }),
    connectRate: connectRate ?? (o.target === 'aws' ? AWS_IOT_LIMITS.connectsPerSecondPerAccount : undefined),
    topic: topic ?? (o.target === 'aws' ? 'basic-ingest' : 'plain'),
    seed: seed ?? randomBytes(4).toString('hex'),
    endpoint: endpoint ?? 'mqtt://127.0.0.1:1883',
    scenario: scenario === undefined ? { anomalies: [] } : parseScenario(scenario),
  };
}
