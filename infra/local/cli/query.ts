/**
 * `npm run query -- readings|alarms|rejects|stream [options]`: what the local stack has stored, read
 * from `<data>/store.db` and `<data>/stream.db` without disturbing it (read-only, WAL: the stack keeps
 * writing while this reads). `readings --target aws` reads the deployed stack's store instead
 * (readings-command.ts), `alarms --target aws` its alarm tables (infra/aws/deployed-alarms.ts). Data on stdout (an aligned table, or JSON with --json), errors on stderr
 * as one line (cli-support.ts: exit code 2 for a wrong invocation, 1 for a missing store and the like).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { RecordedAlarmEvent, RejectRow } from '../../../lambdas/adapters/local/sqlite-queries.js';
import { SqliteStore } from '../../../lambdas/adapters/local/sqlite-store.js';
import { describeStreamFile, listStreamFileFailures } from '../stream/index.js';
import type { FailureEntry, StreamDescription } from '../stream/index.js';
import { DEFAULT_STACK_NAME } from '../../aws/stack-outputs.js';
import { CommandFailedError, UsageError, runCli, writeJson, writeText } from '../../cli/cli-support.js';
import { queryReadings, renderReadings } from './readings-command.js';
import { withAwsAlarmReader } from '../../aws/deployed-alarms.js';

/** File names inside the data directory (the same names as DATA_FILES in infra/local/stack.ts). */
const STORE_FILE = 'store.db';
const STREAM_FILE = 'stream.db';
const DEFAULT_LIMIT = 100;

/** A failure to report as one line on stderr. */
class QueryCliError extends CommandFailedError {}

const DURATION_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`: epoch ms (`1764028800123`), an ISO-8601 time (`2025-11-25T00:00:00Z`, `2025-11-25`) or a
 * duration back from now (`90s`, `15m`, `2h`, `7d`).
 */
function parseSince(value: string, now: number = Date.now()): number {
  if (/^\d+$/.test(value)) return Number(value);
  const duration = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value);
  if (duration) return Math.round(now - Number(duration[1]) * (DURATION_MS[duration[2] as string] as number));
  // Only strings that start like an ISO date: Date.parse alone accepts "March 7" and other guesses.
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new InvalidArgumentError('not epoch ms, an ISO-8601 time or a duration like 15m or 2h');
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('not a positive integer');
  return n;
}

interface CommonOptions {
  data: string;
  json: boolean;
  since?: number;
  limit: number;
  device?: string;
}

function dataFile(dataDir: string, name: string): string {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new QueryCliError(`no data directory ${dataDir} (start the stack with npm start, or pass --data DIR)`);
  }
  const file = join(dataDir, name);
  if (!existsSync(file)) throw new QueryCliError(`no ${name} in ${dataDir} (has the stack run with --data ${dataDir}?)`);
  return file;
}

function withStore<T>(dataDir: string, read: (store: SqliteStore) => T): T {
  const store = SqliteStore.open(dataFile(dataDir, STORE_FILE), { readonly: true });
  try {
    return read(store);
  } finally {
    store.close();
  }
}

// ---------------------------------------------------------------------------------------------- output

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
const text = (v: string | number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

/** Columns padded to their widest cell; the last column is not padded (no trailing spaces). */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

const print = writeText;
const printJson = writeJson;

/** Tells on stderr that the limit cut the output, so a table that looks complete is not mistaken for all of it. */
function noteLimit(shown: number, limit: number, what: string): void {
  if (shown === limit) process.stderr.write(`showing the newest ${limit} ${what}; pass --limit N for more\n`);
}

// ------------------------------------------------------------------------------------------- commands

interface ReadingsCliOptions extends CommonOptions {
  target: 'local' | 'aws';
  until?: number;
  csv: boolean;
  stack?: string;
  region?: string;
}

async function readings(opts: ReadingsCliOptions): Promise<void> {
  if (opts.json && opts.csv) throw new UsageError('--json and --csv: choose one');
  const rows = await queryReadings(opts, { info: (line) => process.stderr.write(`${line}\n`) });
  print(renderReadings(rows, opts.json ? 'json' : opts.csv ? 'csv' : 'table'));
  noteLimit(rows.length, opts.limit, 'readings');
}

interface AlarmsCliOptions extends CommonOptions {
  target: 'local' | 'aws';
  thresholds: string;
  stack?: string;
  region?: string;
  stateTable?: string;
  historyTable?: string;
}

/**
 * The deployed stack's alarms: the lifecycle state of every alarm not at rest (a Scan of the
 * alarm-state table) and, for one --device, its history (one Query, newest first, --limit entries).
 */
async function alarmsAws(opts: AlarmsCliOptions): Promise<void> {
  const { states, history } = await withAwsAlarmReader(opts, async (reader) => ({
    states: await reader.listAlarms(opts.device === undefined ? {} : { deviceId: opts.device }),
    history: opts.device === undefined ? [] : await reader.history({ deviceId: opts.device, limit: opts.limit }),
  }));
  const since = opts.since;
  const entries = (since === undefined ? history : history.filter((e) => (e.kind === 'transition' ? e.event.ts : e.command.at) >= since)).reverse();
  if (opts.json) return printJson({ states, history: entries });
  const who = (by: string | null, note: string | null): string => (by === null ? '-' : note === null ? by : `${by}: ${JSON.stringify(note)}`);
  print('ALARM STATES');
  print(
    table(
      ['ALARM', 'DEVICE', 'STATE', 'SEVERITY', 'SINCE', 'BY'],
      states.map((s) => [s.alarmId, s.deviceId, s.snoozedUntil === null ? s.state : `${s.state} until ${iso(s.snoozedUntil)}`, s.severity, iso(s.since), who(s.by, s.note)]),
    ),
  );
  print('');
  if (opts.device === undefined) {
    process.stderr.write('the history is kept per device: pass --device ID to see one device\'s transitions and commands\n');
    return;
  }
  print('HISTORY');
  print(
    table(
      ['TIME', 'RULE', 'WHAT', 'BY'],
      entries.map((e) =>
        e.kind === 'transition'
          ? [iso(e.event.ts), e.event.ruleId, `${e.event.previousState} -> ${e.event.state} (${e.event.reminder === true ? 'reminder' : (e.event.action ?? 'reading')})`, who(e.event.by, e.event.note)]
          : [iso(e.command.at), text(e.command.ruleId), `command ${text(e.command.action)}: ${e.command.outcome}${e.command.reason === null ? '' : ` (${e.command.reason})`}`, who(e.command.by, e.command.note)],
      ),
    ),
  );
  noteLimit(history.length, opts.limit, 'history entries');
}

async function alarms(opts: AlarmsCliOptions): Promise<void> {
  if (opts.target === 'aws') return alarmsAws(opts);
  const { states, transitions, commands } = withStore(opts.data, (store) => ({
    states: store.queryAlarmStates({ deviceId: opts.device }),
    transitions: store.queryTransitions({ deviceId: opts.device, since: opts.since, limit: opts.limit, order: 'desc' }).reverse(),
    commands: store.queryCommands({ deviceId: opts.device, since: opts.since, limit: opts.limit, order: 'desc' }).reverse(),
  }));
  if (opts.json) return printJson({ states, transitions, commands });
  const value = (e: RecordedAlarmEvent): string => text(e.value);
  const who = (by: string | null, note: string | null): string => (by === null ? '-' : note === null ? by : `${by}: ${JSON.stringify(note)}`);
  print('ALARM STATES');
  print(
    table(
      ['ALARM', 'DEVICE', 'STATE', 'SEVERITY', 'METRIC', 'VALUE', 'THRESHOLD', 'SINCE', 'BY'],
      states.map((s) => [s.alarmId, s.deviceId, s.state, s.severity, text(s.metric), value(s), text(s.threshold), iso(s.ts), who(s.by, s.note)]),
    ),
  );
  print('');
  print('TRANSITIONS');
  print(
    table(
      ['TIME', 'ALARM', 'CHANGE', 'CAUSE', 'SEVERITY', 'VALUE', 'THRESHOLD', 'BY'],
      transitions.map((t) => [
        iso(t.ts),
        t.alarmId,
        `${t.previousState} -> ${t.state}`,
        t.reminder === true ? 'reminder' : (t.action ?? 'reading'),
        t.severity,
        value(t),
        text(t.threshold),
        who(t.by, t.note),
      ]),
    ),
  );
  noteLimit(transitions.length, opts.limit, 'transitions');
  print('');
  print('COMMANDS');
  print(
    table(
      ['TIME', 'DEVICE', 'RULE', 'ACTION', 'OUTCOME', 'STATE', 'BY', 'REASON'],
      commands.map((c) => [iso(c.at), c.deviceId, text(c.ruleId), text(c.action), c.outcome, text(c.state), who(c.by, c.note), text(c.reason)]),
    ),
  );
  noteLimit(commands.length, opts.limit, 'commands');
}

/** A payload cut to fit a table cell; --json has it whole. */
function shortPayload(r: RejectRow): string {
  const shown = r.payloadEncoding === 'utf8' ? JSON.stringify(r.payload) : `base64:${r.payload}`;
  return shown.length > 60 ? `${shown.slice(0, 59)}…` : shown;
}

function rejects(opts: CommonOptions): void {
  const rows = withStore(opts.data, (store) =>
    store.queryRejects({ deviceId: opts.device, since: opts.since, limit: opts.limit, order: 'desc' }),
  ).reverse();
  if (opts.json) return printJson(rows);
  print(
    table(
      ['TIME', 'DEVICE', 'STAGE', 'REASON', 'SHARD', 'SEQUENCE NUMBER', 'PAYLOAD'],
      rows.map((r) => [iso(r.rejectedAt), text(r.deviceId), r.stage, r.reason, r.record.shardId, r.record.sequenceNumber, shortPayload(r)]),
    ),
  );
  noteLimit(rows.length, opts.limit, 'rejects');
}

function stream(opts: Omit<CommonOptions, 'device'>): void {
  const file = dataFile(opts.data, STREAM_FILE);
  const description: StreamDescription = describeStreamFile(file);
  const failureEntries: FailureEntry[] = listStreamFileFailures(file)
    .filter((f) => opts.since === undefined || f.createdAt >= opts.since)
    .slice(-opts.limit);
  if (opts.json) return printJson({ ...description, failureEntries });
  print(
    `STREAM ${description.streamName}  shards ${description.shardCount}  retention ${description.retentionHours}h  failure entries ${description.failures}`,
  );
  print('');
  print(
    table(
      ['SHARD', 'RECORDS', 'FIRST SEQUENCE NUMBER', 'LAST SEQUENCE NUMBER', 'NEWEST ARRIVAL'],
      description.shards.map((s) => [s.shardId, String(s.records), text(s.firstSequenceNumber), text(s.lastSequenceNumber), iso(s.newestArrival)]),
    ),
  );
  print('');
  print('CONSUMERS');
  print(
    table(
      ['CONSUMER', 'SHARD', 'CHECKPOINT', 'LAG RECORDS', 'LAG MS', 'FAILURES'],
      description.consumers.flatMap((c) =>
        c.shards.map((p) => [c.consumer, p.shardId, text(p.checkpoint), String(p.lagRecords), String(p.lagMs), String(c.failures)]),
      ),
    ),
  );
  print('');
  print('FAILURE DESTINATION');
  print(
    table(
      ['CREATED', 'CONSUMER', 'SHARD', 'CONDITION', 'START SEQUENCE NUMBER', 'END SEQUENCE NUMBER', 'BATCH'],
      failureEntries.map((f) => [
        iso(f.createdAt),
        f.consumer,
        f.shardId,
        f.condition,
        f.metadata.KinesisBatchInfo.startSequenceNumber,
        f.metadata.KinesisBatchInfo.endSequenceNumber,
        String(f.metadata.KinesisBatchInfo.batchSize),
      ]),
    ),
  );
  noteLimit(failureEntries.length, opts.limit, 'failure entries');
}

// ------------------------------------------------------------------------------------------- program

function common(command: Command, { device }: { device: boolean }): Command {
  if (device) command.option('--device <id>', 'only this device');
  return command
    .option('--since <time>', 'from this time: epoch ms, ISO-8601, or a duration back from now (15m, 2h, 7d)', (v) => parseSince(v))
    .addOption(new Option('--limit <n>', 'at most this many rows (the newest)').argParser(parseLimit).default(DEFAULT_LIMIT))
    .option('--json', 'JSON on stdout instead of a table', false)
    .option('--data <dir>', 'data directory of the local stack', './data');
}

const program = new Command('query').description(
  'Read what the local stack stored: readings, alarms, rejected messages, the stream.',
);

common(
  program
    .command('readings')
    .description('readings ({deviceId, ts, seq, type, metrics}, ts in epoch ms), newest last, from the local store or the deployed stack')
    .addHelpText(
      'after',
      `
Reading a deployed stack (--target aws):
  The stack's outputs (CloudFormation DescribeStacks on --stack, default ${DEFAULT_STACK_NAME}, in
  --region, default the AWS SDK's chain: AWS_REGION or your profile) name its store: the DynamoDB
  readings table (ReadingsTableName; the fleet's newest readings need AlarmStateTableName to list
  the devices) or Timestream (TimestreamDatabaseName, TimestreamTableName). Credentials come from the
  AWS SDK's default chain (environment, ~/.aws profiles, SSO, instance roles). Needs
  cloudformation:DescribeStacks and dynamodb:Query + dynamodb:Scan (alarm-state table) or
  timestream:Select. Same output as locally: a table, --json or --csv.

Examples:
  npm run query -- readings --device sensor-0001 --since 2h
  npm run query -- readings --target aws --region eu-west-1 --device sensor-0001 --since 1d --csv
  npm run query -- readings --target aws --stack FleetTelemetry --limit 20 --json`,
    ),
  { device: true },
)
  .addOption(new Option('--target <where>', 'read the local store or the deployed AWS stack').choices(['local', 'aws']).default('local'))
  .option('--until <time>', 'before this time (exclusive): epoch ms, ISO-8601, or a duration back from now', (v) => parseSince(v))
  .option('--csv', 'CSV on stdout (RFC 4180): ts_iso, ts_ms, device_id, seq, type, one column per metric', false)
  .option('--stack <name>', `with --target aws: the CloudFormation stack (default ${DEFAULT_STACK_NAME})`)
  .option('--region <region>', "with --target aws: the stack's AWS region (default: the AWS SDK's chain)")
  .action(readings);
common(
  program
    .command('alarms')
    .description("alarm lifecycle states, the transitions (reminders included) and the operators' commands (--since and --limit apply to transitions and commands)")
    .addHelpText(
      'after',
      `
Reading a deployed stack (--target aws):
  The alarm-state table (every alarm not at rest, its state read with the rules in --thresholds, the
  rules you deployed) and, with --device, that device's history from the alarm-history table (one
  Query, newest --limit entries). The tables come from the stack's outputs (AlarmStateTableName,
  AlarmHistoryTableName), or --state-table / --history-table. Needs cloudformation:DescribeStacks,
  dynamodb:Scan on the alarm-state table and dynamodb:Query on the alarm-history table.`,
    ),
  { device: true },
)
  .addOption(new Option('--target <where>', 'read the local store or the deployed AWS stack').choices(['local', 'aws']).default('local'))
  .option('--thresholds <file>', 'with --target aws: the threshold rules deployed', 'config/thresholds.json')
  .option('--stack <name>', `with --target aws: the CloudFormation stack (default ${DEFAULT_STACK_NAME})`)
  .option('--region <region>', "with --target aws: the stack's AWS region (default: the AWS SDK's chain)")
  .option('--state-table <name>', 'with --target aws: the alarm-state table, instead of the stack output')
  .option('--history-table <name>', 'with --target aws: the alarm-history table, instead of the stack output')
  .action(alarms);
common(program.command('rejects').description('rejected messages with their reasons and original payloads'), { device: true }).action(
  rejects,
);
common(program.command('stream').description("the stream's shards, sequence numbers, each consumer's lag and the failure destination"), {
  device: false,
}).action(stream);

await runCli(program);
