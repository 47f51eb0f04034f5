import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { runEntry, type EntryRun } from '../helpers/run-entry.js';
import type { KinesisStreamEvent } from 'aws-lambda';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { LocalStream } from '../../infra/local/stream/index.js';
import type { OnFailureRecord } from '../../infra/local/stream/index.js';
import { aReading, aRecordRef, aRejectedMessage, anAlarmEvent, T0 } from '../contract/fixtures.js';

/** What `npm run query -- ...args` runs, minus npm. */
function query(...args: string[]): Promise<EntryRun> {
  return queryWithEnv(process.env, ...args);
}
function queryWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<EntryRun> {
  return runEntry('infra/local/cli/query.ts', args, { env });
}

// Child processes start slowly on a shared 2-core machine: a longer timeout than the default 30 s.
describe('npm run query', { timeout: 90_000 }, () => {
  let root: string;
  let data: string;
  const now = Date.now();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-query-'));
    data = join(root, 'data');
    const store = SqliteStore.open(join(data, 'store.db'), { clock: { now: () => T0 + 500_000 } });
    await store.timeSeries.write([
      aReading({ deviceId: 'sensor-0001', ts: T0, seq: 1, metrics: { temperature: 22.4, humidity: 41 } }),
      aReading({ deviceId: 'sensor-0001', ts: T0 + 1_000, seq: 2, metrics: { temperature: 22.5 } }),
      aReading({ deviceId: 'sensor-0002', ts: T0 + 500, seq: undefined, type: undefined, metrics: { battery: 3.2 } }),
      aReading({ deviceId: 'live-1', ts: now - 2 * 3_600_000, seq: undefined, type: undefined, metrics: { battery: 3.2 } }),
      aReading({ deviceId: 'live-1', ts: now - 60_000, seq: 2 }),
    ]);
    await store.rejects.reject([
      aRejectedMessage({ rejectedAt: T0 + 2_000 }),
      aRejectedMessage({
        deviceId: 'sensor-0002',
        reason: 'payload: not JSON',
        payload: Buffer.from([0xff, 0xfe]).toString('base64'),
        record: aRecordRef({ sequenceNumber: '2' }),
        rejectedAt: T0 + 3_000,
      }),
    ]);
    await store.alarmLog.notify([
      anAlarmEvent(),
      anAlarmEvent({ state: 'OK', previousState: 'ALARM', value: 74, threshold: 75, ts: T0 + 60_000 }),
      anAlarmEvent({ alarmId: 'sensor-0002/silent', deviceId: 'sensor-0002', ruleId: 'silent', metric: null, severity: 'major', value: 300, threshold: 300, ts: T0 + 30_000 }),
      anAlarmEvent({
        alarmId: 'sensor-0002/silent', deviceId: 'sensor-0002', ruleId: 'silent', metric: null, severity: 'major', value: null, threshold: 300,
        state: 'ACKNOWLEDGED', previousState: 'ALARM', action: 'acknowledge', by: 'night-shift', note: 'battery swap', ts: T0 + 40_000,
      }),
    ]);
    await store.alarmHistory.record([
      {
        kind: 'command',
        command: {
          deviceId: 'sensor-0002', ruleId: 'silent', action: 'acknowledge', by: 'night-shift', note: 'battery swap', seconds: null,
          clientToken: 't-1', at: T0 + 40_000, outcome: 'accepted', reason: null, state: 'ACKNOWLEDGED',
        },
      },
      {
        kind: 'command',
        command: {
          deviceId: 'sensor-0002', ruleId: 'silent', action: 'enable', by: 'night-shift', note: null, seconds: null,
          clientToken: null, at: T0 + 41_000, outcome: 'rejected', reason: 'not disabled', state: 'ACKNOWLEDGED',
        },
      },
    ]);
    store.close();

    const stream = LocalStream.open({ file: join(data, 'stream.db'), streamName: 'fleet-telemetry', shardCount: 2, retentionHours: 24 });
    const appended = await stream.appendMany(
      ['sensor-0001', 'sensor-0002', 'sensor-0001'].map((partitionKey) => ({ partitionKey, data: Buffer.from('{}') })),
    );
    const first = appended[0]!;
    stream.setCheckpoint('ingest', first.shardId, first.sequenceNumber);
    const metadata: OnFailureRecord = {
      requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:local:000000000000:function:fleet-telemetry-alarms', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date(now).toISOString(),
      KinesisBatchInfo: {
        shardId: first.shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: first.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(now).toISOString(),
        approximateArrivalOfLastRecord: new Date(now).toISOString(),
        batchSize: 1,
        streamArn: 'arn:aws:kinesis:local:000000000000:stream/fleet-telemetry',
      },
    };
    stream.recordFailure('alarms', { shardId: first.shardId, condition: 'RetryAttemptsExhausted', metadata, payload: { Records: [] } satisfies KinesisStreamEvent });
    await stream.close();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('documents the AWS read path in readings --help', async () => {
    const run = await query('readings', '--help');

    expect(run.code).toBe(0);
    for (const text of ['--target <where>', '--region <region>', '--stack <name>', 'DescribeStacks', 'ReadingsTableName', 'TimestreamTableName', "AWS SDK's default chain", '--csv']) {
      expect(run.stdout).toContain(text);
    }
  });

  it('says in one line, exit 2, that AWS credentials are missing for --target aws', async () => {
    // No credentials anywhere in the SDK's chain: no variables, no files, no instance metadata.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    const run = await queryWithEnv(
      { ...env, AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true' },
      'readings', '--target', 'aws', '--region', 'eu-west-1', '--device', 'sensor-0001',
    );

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: no AWS credentials for eu-west-1: configure them \(aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY\): .+\n$/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  describe('with a filled data directory', () => {
    it('prints readings as an aligned table, newest last, with - for a missing seq or type', async () => {
      const run = await query('readings', '--data', data, '--since', String(T0 + 1_000), '--limit', '3');

      expect(run.code).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines).toEqual([
        'TIME                      DEVICE       SEQ  TYPE        METRICS',
        `${new Date(T0 + 1_000).toISOString()}  sensor-0001  2    env-sensor  temperature=22.5`,
        `${new Date(now - 2 * 3_600_000).toISOString()}  live-1       -    -           battery=3.2`,
        `${new Date(now - 60_000).toISOString()}  live-1       2    env-sensor  temperature=22.4 humidity=41 battery=3.61`,
      ]);
      expect(run.stderr).toBe('showing the newest 3 readings; pass --limit N for more\n');
    });

    it('prints one device’s readings since an ISO time as JSON with ts in epoch ms', async () => {
      const run = await query('readings', '--json', '--data', data, '--device', 'sensor-0001', '--since', new Date(T0 + 1).toISOString());

      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([
        { deviceId: 'sensor-0001', ts: T0 + 1_000, seq: 2, type: 'env-sensor', metrics: { temperature: 22.5 } },
      ]);
      expect(run.stderr).toBe('');
    });

    it('prints one device’s readings in a time range as CSV, one column per metric', async () => {
      const run = await query('readings', '--csv', '--data', data, '--device', 'sensor-0001', '--until', String(T0 + 1_001));

      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        [
          'ts_iso,ts_ms,device_id,seq,type,humidity,temperature',
          `${new Date(T0).toISOString()},${T0},sensor-0001,1,env-sensor,41,22.4`,
          `${new Date(T0 + 1_000).toISOString()},${T0 + 1_000},sensor-0001,2,env-sensor,,22.5`,
          '',
        ].join('\r\n'),
      );
    });

    it('refuses --json with --csv, and --region without --target aws, as usage errors', async () => {
      const both = await query('readings', '--json', '--csv', '--data', data);
      const region = await query('readings', '--region', 'eu-west-1', '--data', data);

      expect([both.code, both.stderr]).toEqual([2, 'error: --json and --csv: choose one\n']);
      expect([region.code, region.stderr]).toEqual([2, 'error: --stack and --region need --target aws\n']);
    });

    it('takes a relative --since, counted back from now', async () => {
      const run = await query('readings', '--json', '--data', data, '--since', '15m');

      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).map((r: { deviceId: string; ts: number }) => [r.deviceId, r.ts])).toEqual([['live-1', now - 60_000]]);
    });

    it('prints alarm states, transitions and commands as one JSON object', async () => {
      const run = await query('alarms', '--json', '--data', data);

      expect(run.code).toBe(0);
      const { states, transitions, commands } = JSON.parse(run.stdout) as {
        states: { alarmId: string; state: string; by: string | null }[];
        transitions: { alarmId: string; state: string; ts: number }[];
        commands: { action: string; outcome: string; by: string; at: number }[];
      };
      expect(states.map((s) => [s.alarmId, s.state, s.by])).toEqual([
        ['sensor-0001/overheat', 'OK', null],
        ['sensor-0002/silent', 'ACKNOWLEDGED', 'night-shift'],
      ]);
      expect(transitions.map((t) => [t.alarmId, t.state, t.ts - T0])).toEqual([
        ['sensor-0001/overheat', 'ALARM', 0],
        ['sensor-0002/silent', 'ALARM', 30_000],
        ['sensor-0002/silent', 'ACKNOWLEDGED', 40_000],
        ['sensor-0001/overheat', 'OK', 60_000],
      ]);
      expect(commands.map((c) => [c.action, c.outcome, c.by, c.at - T0])).toEqual([
        ['acknowledge', 'accepted', 'night-shift', 40_000],
        ['enable', 'rejected', 'night-shift', 41_000],
      ]);
    });

    it('prints alarm tables for one device', async () => {
      const run = await query('alarms', '--data', data, '--device', 'sensor-0002');

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^ALARM STATES\nALARM +DEVICE +STATE +SEVERITY +METRIC +VALUE +THRESHOLD +SINCE +BY\n/);
      expect(run.stdout).toMatch(/^sensor-0002\/silent +sensor-0002 +ACKNOWLEDGED +major +- +- +300 +\S+ +night-shift: "battery swap"$/m);
      expect(run.stdout).toContain('TRANSITIONS\n');
      expect(run.stdout).toMatch(/ OK -> ALARM +reading /);
      expect(run.stdout).toMatch(/ ALARM -> ACKNOWLEDGED +acknowledge .* night-shift: "battery swap"$/m);
      expect(run.stdout).toMatch(/^COMMANDS\nTIME +DEVICE +RULE +ACTION +OUTCOME +STATE +BY +REASON\n/m);
      expect(run.stdout).toMatch(/ sensor-0002 +silent +enable +rejected +ACKNOWLEDGED +night-shift +not disabled$/m);
      expect(run.stdout).not.toContain('sensor-0001');
    });

    it('prints rejects with their reasons, a text payload as text and a binary one as base64', async () => {
      const json = await query('rejects', '--json', '--data', data);
      const tableRun = await query('rejects', '--data', data, '--device', 'sensor-0001');

      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject([
        { reason: 'metrics.temperature: not a finite number', stage: 'decode', payload: '{"metrics":{"temperature":"hot"}}', payloadEncoding: 'utf8', rejectedAt: T0 + 2_000 },
        { reason: 'payload: not JSON', deviceId: 'sensor-0002', payload: '//4=', payloadEncoding: 'base64', record: { sequenceNumber: '2' } },
      ]);
      expect(tableRun.code).toBe(0);
      expect(tableRun.stdout.split('\n')[0]).toMatch(/^TIME +DEVICE +STAGE +REASON +SHARD +SEQUENCE NUMBER +PAYLOAD$/);
      expect(tableRun.stdout).toContain('metrics.temperature: not a finite number');
      expect(tableRun.stdout).not.toContain('payload: not JSON');
    });

    it("prints the stream's shards, each consumer's lag and the failure destination", async () => {
      const json = await query('stream', '--json', '--data', data);
      const tableRun = await query('stream', '--data', data);

      expect(json.code).toBe(0);
      const description = JSON.parse(json.stdout) as {
        streamName: string;
        shards: { records: number }[];
        consumers: { consumer: string; lagRecords: number; failures: number }[];
        failureEntries: { consumer: string; condition: string }[];
      };
      expect(description.streamName).toBe('fleet-telemetry');
      expect(description.shards.reduce((n, s) => n + s.records, 0)).toBe(3);
      expect(description.consumers.map((c) => [c.consumer, c.lagRecords, c.failures])).toEqual([
        ['alarms', 3, 1],
        ['ingest', 2, 0],
      ]);
      expect(description.failureEntries).toMatchObject([{ consumer: 'alarms', condition: 'RetryAttemptsExhausted' }]);
      expect(tableRun.code).toBe(0);
      expect(tableRun.stdout).toMatch(/^STREAM fleet-telemetry {2}shards 2 {2}retention 24h {2}failure entries 1$/m);
      expect(tableRun.stdout).toContain('CONSUMERS\nCONSUMER');
      expect(tableRun.stdout).toMatch(/^alarms +shardId-\d{12} +\S+ +\d+ +\d+ +1$/m);
      expect(tableRun.stdout).toMatch(/^FAILURE DESTINATION\nCREATED .*\n\S+ +alarms +shardId-\d{12} +RetryAttemptsExhausted +\d+ +\d+ +1$/m);
    });
  });

  describe('on bad input', () => {
    it('fails with one line when the data directory is missing', async () => {
      const missing = join(root, 'nowhere');

      const run = await query('readings', '--data', missing);

      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(`error: no data directory ${missing} (start the stack with npm start, or pass --data DIR)\n`);
    });

    it('fails with one line when the data directory has no store', async () => {
      const empty = join(root, 'empty');
      mkdirSync(empty, { recursive: true });

      const run = await query('alarms', '--data', empty);

      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toEqual([`error: no store.db in ${empty} (has the stack run with --data ${empty}?)`]);
    });

    it('fails with one line and the usage exit code on a --since it cannot read', async () => {
      const run = await query('rejects', '--data', data, '--since', 'last tuesday');

      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain("'last tuesday' is invalid");
    });
  });
});
