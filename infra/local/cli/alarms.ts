/**
 * `npm run alarms -- list [--state S] | ack|snooze|disable|enable|reset ALARM_ID [--note TEXT] [--seconds N]`:
 * an operator's view of the alarms and the commands that work them, on the local stack or on AWS IoT.
 *
 * A command goes the way every operator's command goes (issue 13's command contract): published as
 * the operator's MQTT client on `cmd/fleet/alarms/{deviceId}`, answered on `.../accepted` or
 * `.../rejected`. This command line waits for the reply carrying its `clientToken`, prints it, and
 * exits 0 when accepted, 1 when refused or when no reply came within --timeout (10 s). Who acted is
 * the operator's client id, which the broker authenticated: never a field of the command.
 *
 * - Local (default): the operator's credential comes from `<data>/credentials/<operator>.json`
 *   (see operator-credential.ts); `list` reads `<data>/store.db`.
 * - `list --target aws` reads the alarm-state table the deployed stack names (AWS credentials).
 * - AWS: `--target aws --endpoint <iot:Data-ATS host> --certs DIR`, DIR holding
 *   `<operator>.cert.pem`, `<operator>.private.key` and `AmazonRootCA1.pem` of a certificate with the
 *   operator policy attached (MQTT over TLS as the simulator connects).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { MqttClient } from 'mqtt';
import { ALARM_STATES, TELEMETRY_LIMITS } from '../../../lambdas/domain/model.js';
import type { AlarmStatus } from '../../../lambdas/domain/model.js';
import { withAwsAlarmReader } from '../../aws/deployed-alarms.js';
import { awsTlsOptions, DEFAULT_LOCAL_ENDPOINT, endpointUrl, openClient, parseEndpoint } from '../../../simulator/connection.js';
import type { ConnectionSpec, Target } from '../../../simulator/connection.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { DEFAULT_REPLY_TIMEOUT_MS, sendAlarmCommand } from './alarm-command-client.js';
import type { CommandReply } from './alarm-command-client.js';
import type { AlarmCommand } from '../../../lambdas/domain/alarm-command.js';
import type { AlarmCommandAction } from '../../../lambdas/domain/model.js';
import { CommandFailedError, integerArgument, runCli, UsageError, writeJson, writeText } from '../../cli/cli-support.js';
import { readCredential } from './operator-credential.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DEFAULT_DATA_DIR = './data';
const DEFAULT_OPERATOR = 'operator';
/** The command contract's limit on a note. */
const MAX_NOTE_CHARS = 1_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** What the command line calls each action (the payload carries the contract's name). */
const ACTIONS: Readonly<Record<string, { action: AlarmCommandAction; description: string }>> = {
  ack: { action: 'acknowledge', description: 'acknowledge an alarm (ALARM or LATCHED): it stops reminding, and returns to OK when the value clears' },
  snooze: { action: 'snooze', description: 'raise nothing for --seconds N; afterwards the rule is evaluated afresh' },
  disable: { action: 'disable', description: 'evaluate and raise nothing until enabled' },
  enable: { action: 'enable', description: 'enable a disabled rule: back to OK, evaluated afresh' },
  reset: { action: 'reset', description: 'back to OK at once, forgetting debounce and hysteresis progress' },
};

interface ConnectionOptions {
  target: Target;
  endpoint?: string;
  certs?: string;
  operator: string;
  data: string;
  timeout: number;
  json: boolean;
}

interface CommandOptions extends ConnectionOptions {
  note?: string;
  seconds?: number;
}

/** `deviceId/ruleId`, as in every alarm event's `alarmId`. */
function parseAlarmId(alarmId: string): { deviceId: string; ruleId: string } {
  const slash = alarmId.indexOf('/');
  const deviceId = alarmId.slice(0, slash);
  const ruleId = alarmId.slice(slash + 1);
  if (slash < 0 || !TELEMETRY_LIMITS.deviceId.test(deviceId) || !/^[A-Za-z0-9_.-]{1,64}$/.test(ruleId)) {
    throw new UsageError(`ALARM_ID must be deviceId/ruleId (e.g. sensor-0001/overheat), got ${JSON.stringify(alarmId)}`);
  }
  return { deviceId, ruleId };
}

function buildCommand(name: string, ruleId: string, opts: CommandOptions): AlarmCommand {
  const { action } = ACTIONS[name] as { action: AlarmCommandAction };
  if (action === 'snooze' && opts.seconds === undefined) throw new UsageError('snooze needs --seconds N');
  if (action !== 'snooze' && opts.seconds !== undefined) throw new UsageError('--seconds is for snooze only');
  if (opts.note !== undefined && [...opts.note].length > MAX_NOTE_CHARS) throw new UsageError(`--note: at most ${MAX_NOTE_CHARS} characters`);
  return { action, ruleId, ...(opts.note === undefined ? {} : { note: opts.note }), ...(opts.seconds === undefined ? {} : { seconds: opts.seconds }) };
}

function connectionSpec(opts: ConnectionOptions): ConnectionSpec {
  const common = { clientId: opts.operator, keepaliveS: 30, connectTimeoutMs: CONNECT_TIMEOUT_MS };
  if (opts.target === 'aws') {
    if (opts.endpoint === undefined) throw new UsageError('--target aws needs --endpoint <your iot:Data-ATS host>');
    if (opts.certs === undefined) throw new UsageError('--target aws needs --certs DIR (the operator certificate)');
    const endpoint = parseEndpoint(opts.endpoint, 'aws');
    return { ...common, endpoint, tls: awsTlsOptions(endpoint, opts.certs, opts.operator) };
  }
  if (opts.certs !== undefined) throw new UsageError('--certs is for --target aws');
  const endpoint = parseEndpoint(opts.endpoint ?? DEFAULT_LOCAL_ENDPOINT, 'local');
  const { username, password } = readCredential(opts.data, opts.operator);
  return { ...common, endpoint, username, password };
}

/** Connects once (no reconnect): a refused or unreachable broker is one line and exit 1. */
function connect(spec: ConnectionSpec): Promise<MqttClient> {
  const client = openClient(spec);
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      client.end(true);
      reject(new CommandFailedError(`cannot connect to ${endpointUrl(spec.endpoint)} as ${spec.clientId}: ${why}`));
    };
    client.once('connect', () => resolve(client));
    client.once('error', (error) => fail(error.message));
    client.once('close', () => fail('connection closed'));
  });
}

function printReply(reply: CommandReply, json: boolean): void {
  if (json) {
    writeJson({ outcome: reply.outcome, ...reply.body });
    return;
  }
  const { body } = reply;
  const alarm = `${body.deviceId ?? '?'}/${body.ruleId ?? '?'}`;
  if (reply.outcome === 'accepted') writeText(`accepted  ${body.action ?? ''} ${alarm}${body.state === undefined ? '' : `  state ${body.state}`}`);
  else writeText(`rejected  ${body.action ?? ''} ${alarm}  ${body.reason ?? '(no reason given)'}`);
}

async function runCommand(name: string, alarmId: string, opts: CommandOptions): Promise<void> {
  const { deviceId, ruleId } = parseAlarmId(alarmId);
  const command = buildCommand(name, ruleId, opts);
  const client = await connect(connectionSpec(opts));
  try {
    const reply = await sendAlarmCommand(client, deviceId, command, { timeoutMs: opts.timeout * 1000 });
    printReply(reply, opts.json);
    if (reply.outcome === 'rejected') process.exitCode = 1;
  } finally {
    await client.endAsync();
  }
}

interface ListOptions {
  data: string;
  state?: AlarmStatus;
  device?: string;
  json: boolean;
  target: Target;
  thresholds: string;
  stack?: string;
  region?: string;
  stateTable?: string;
  historyTable?: string;
}

/** One alarm as `list` prints it, the same from both targets. */
interface ListedAlarm {
  readonly alarmId: string;
  readonly deviceId: string;
  readonly ruleId: string;
  readonly state: AlarmStatus;
  readonly severity: string;
  /** Event time the state holds since, epoch ms (null when unknown). */
  readonly since: number | null;
  readonly by: string | null;
  readonly note: string | null;
  /** SNOOZED: when the snooze ends (AWS only: the local store keeps transitions, not the engine state). */
  readonly snoozedUntil: number | null;
}

/** Locally: each alarm's newest transition in `<data>/store.db` (what the stack published). */
function listLocal(opts: ListOptions): ListedAlarm[] {
  const file = join(resolve(opts.data), 'store.db');
  if (!existsSync(file)) throw new CommandFailedError(`no store.db in ${resolve(opts.data)} (has the stack run with --data ${opts.data}?)`);
  const store = SqliteStore.open(file, { readonly: true });
  try {
    return store
      .queryAlarmStates({ ...(opts.device === undefined ? {} : { deviceId: opts.device }), ...(opts.state === undefined ? {} : { state: opts.state }) })
      .map((a) => ({ alarmId: a.alarmId, deviceId: a.deviceId, ruleId: a.ruleId, state: a.state, severity: a.severity, since: a.ts, by: a.by, note: a.note, snoozedUntil: null }));
  } finally {
    store.close();
  }
}

/** On AWS: the alarm-state table read as the engine reads it (infra/aws/deployed-alarms.ts). */
async function listAws(opts: ListOptions): Promise<ListedAlarm[]> {
  const views = await withAwsAlarmReader(opts, (reader) =>
    reader.listAlarms({ ...(opts.device === undefined ? {} : { deviceId: opts.device }), ...(opts.state === undefined ? {} : { state: opts.state }) }),
  );
  return views.map((v) => ({ alarmId: v.alarmId, deviceId: v.deviceId, ruleId: v.ruleId, state: v.state, severity: v.severity, since: v.since, by: v.by, note: v.note, snoozedUntil: v.snoozedUntil }));
}

async function list(opts: ListOptions): Promise<void> {
  // Without --state: the alarms not at rest.
  const alarms = (opts.target === 'aws' ? await listAws(opts) : listLocal(opts)).filter((a) => opts.state !== undefined || a.state !== ALARM_STATES.OK);
  if (opts.json) {
    writeJson(alarms);
    return;
  }
  if (alarms.length === 0) {
    process.stderr.write(opts.state === undefined ? 'No alarms: every rule is at rest.\n' : `No alarms in state ${opts.state}.\n`);
    return;
  }
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  const rows = [
    ['ALARM', 'STATE', 'SEVERITY', 'SINCE', 'BY'],
    ...alarms.map((a) => [
      a.alarmId,
      a.snoozedUntil === null ? a.state : `${a.state} until ${iso(a.snoozedUntil)}`,
      a.severity,
      iso(a.since),
      a.by === null ? '-' : a.note === null ? a.by : `${a.by}: ${JSON.stringify(a.note)}`,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  writeText(rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n'));
}

function seconds(value: string): number {
  return integerArgument({ min: 1, max: 31_536_000 })(value);
}

function timeoutSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 600) throw new InvalidArgumentError('not a number of seconds from 0 to 600');
  return n;
}

const targetOption = () => new Option('--target <target>', 'local: the local stack; aws: AWS IoT Core').choices(['local', 'aws']).default('local');
const dataOption = () => new Option('--data <dir>', 'data directory of the local stack').default(DEFAULT_DATA_DIR);
const jsonOption = () => new Option('--json', 'machine-readable output on stdout').default(false);

const program = new Command('alarms')
  .description('List alarms and work them as an operator: acknowledge, snooze, disable, enable, reset.')
  .showSuggestionAfterError(false);

program
  .command('list')
  .description('the alarms not at rest (or those in --state), with their lifecycle state and who acted last')
  .addOption(new Option('--state <state>', 'only alarms in this state').choices(Object.values(ALARM_STATES)))
  .option('--device <id>', 'only this device')
  .addOption(targetOption())
  .addOption(dataOption())
  .option('--thresholds <file>', 'AWS: the threshold rules deployed (the stored state is read with them)', 'config/thresholds.json')
  .option('--stack <name>', 'AWS: the stack whose outputs name the tables (default FleetTelemetry)')
  .option('--region <region>', 'AWS: the region (default: the SDK\'s, e.g. AWS_REGION)')
  .option('--state-table <name>', 'AWS: the alarm-state table, instead of the stack output')
  .option('--history-table <name>', 'AWS: the alarm-history table, instead of the stack output')
  .addOption(jsonOption())
  .action(list);

for (const [name, { description }] of Object.entries(ACTIONS)) {
  const command = program
    .command(name)
    .description(description)
    .argument('<alarmId>', 'deviceId/ruleId, e.g. sensor-0001/overheat')
    .option('--note <text>', `why (at most ${MAX_NOTE_CHARS} characters); kept in the alarm history`);
  if (name === 'snooze') command.option('--seconds <n>', 'how long to snooze', seconds);
  command
    .addOption(targetOption())
    .option('--endpoint <url>', `the broker: ${DEFAULT_LOCAL_ENDPOINT} locally, your iot:Data-ATS host on AWS`)
    .option('--certs <dir>', 'AWS: holds <operator>.cert.pem, <operator>.private.key and AmazonRootCA1.pem')
    .option('--operator <id>', 'the operator: MQTT client id (and thing name on AWS) and saved local credential', DEFAULT_OPERATOR)
    .option('--timeout <seconds>', 'how long to wait for the reply', timeoutSeconds, DEFAULT_REPLY_TIMEOUT_MS / 1000)
    .addOption(dataOption())
    .addOption(jsonOption())
    .action((alarmId: string, opts: CommandOptions) => runCommand(name, alarmId, opts));
}

await runCli(program);
