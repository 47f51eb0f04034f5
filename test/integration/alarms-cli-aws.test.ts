/**
 * `npm run alarms -- list --target aws` against a real DynamoDB implementation (dynalite on
 * 127.0.0.1, reached through the SDK's AWS_ENDPOINT_URL_DYNAMODB), with alarm state the engine wrote
 * and the tables created from the stack's own key schemas.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCommand, applyReadings } from '../../lambdas/domain/alarm-engine.js';
import { parseThresholds } from '../../lambdas/domain/thresholds.js';
import { alarmStateDocumentClient, DynamoDbAlarmStateStore } from '../../lambdas/adapters/aws/dynamodb-alarm-state.js';
import { DynamoDbAlarmHistory } from '../../lambdas/adapters/aws/dynamodb-alarm-history.js';
import { ALARM_HISTORY_TABLE_KEYS, ALARM_STATE_TABLE_KEYS } from '../../lambdas/adapters/aws/dynamodb-readings-schema.js';
import { startDynalite, type Dynalite } from '../helpers/dynalite.js';

const TSX_CLI = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
const RULES = { rules: [{ id: 'overheat', metric: 'temperature', when: { above: 80 }, severity: 'critical' }] };
const T0 = 1_764_028_800_000;

describe('npm run alarms -- list --target aws', { timeout: 90_000 }, () => {
  let db: Dynalite;
  let dir: string;
  let thresholdsFile: string;
  let stateTable: string;
  let historyTable: string;

  const run = (...args: string[]) => runCli('alarms.ts', 'list', ...args);
  const runCli = (script: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [TSX_CLI, `infra/local/cli/${script}`, ...args, '--target', 'aws', '--region', 'us-east-1'],
        {
          cwd: process.cwd(),
          timeout: 60_000,
          env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PROFILE: '' },
        },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    db = await startDynalite();
    dir = mkdtempSync(join(tmpdir(), 'ft-alarms-aws-'));
    thresholdsFile = join(dir, 'thresholds.json');
    writeFileSync(thresholdsFile, JSON.stringify(RULES));
    stateTable = await db.createTable(ALARM_STATE_TABLE_KEYS);
    historyTable = await db.createTable(ALARM_HISTORY_TABLE_KEYS);
    const rules = parseThresholds(RULES);
    const store = new DynamoDbAlarmStateStore({ client: alarmStateDocumentClient(db.client), tableName: stateTable });
    const raise = (deviceId: string, temperature: number) =>
      applyReadings({ deviceId, state: undefined, rules, readings: [{ deviceId, ts: T0, seq: 1, metrics: { temperature }, receivedAt: T0 }] });
    const acknowledged = applyCommand({
      deviceId: 'oven-1', state: raise('oven-1', 95).state, rules, command: { action: 'acknowledge', ruleId: 'overheat', note: 'fan replaced' }, by: 'night-shift', at: T0 + 5_000,
    });
    if (acknowledged.outcome !== 'accepted') throw new Error(`the fixture's acknowledgement was refused: ${acknowledged.reason}`);
    const history = new DynamoDbAlarmHistory({ client: alarmStateDocumentClient(db.client), tableName: historyTable, ttlDays: 90 });
    await history.record([
      ...raise('oven-1', 95).events.map((event) => ({ kind: 'transition' as const, event })),
      ...acknowledged.events.map((event) => ({ kind: 'transition' as const, event })),
      {
        kind: 'command',
        command: {
          deviceId: 'oven-1', ruleId: 'overheat', action: 'acknowledge', by: 'night-shift', note: 'fan replaced', seconds: null,
          clientToken: 't-1', at: T0 + 5_000, outcome: 'accepted', reason: null, state: 'ACKNOWLEDGED',
        },
      },
    ]);
    await store.save({ deviceId: 'oven-1', version: 1, lastSeen: T0, state: acknowledged.state, outbox: [] }, undefined);
    await store.save({ deviceId: 'oven-2', version: 1, lastSeen: T0, state: raise('oven-2', 91).state, outbox: [] }, undefined);
    await store.save({ deviceId: 'oven-3', version: 1, lastSeen: T0, state: raise('oven-3', 20).state, outbox: [] }, undefined);
  });
  afterAll(async () => {
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the alarms not at rest with their lifecycle state and who acted, read as the engine reads them', async () => {
    const result = await run('--state-table', stateTable, '--history-table', historyTable, '--thresholds', thresholdsFile, '--json');

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ alarmId: 'oven-1/overheat', state: 'ACKNOWLEDGED', severity: 'critical', by: 'night-shift', note: 'fan replaced' }),
      expect.objectContaining({ alarmId: 'oven-2/overheat', state: 'ALARM', by: null, note: null }),
    ]);
  });

  it('filters by state and prints a table', async () => {
    const result = await run('--state-table', stateTable, '--history-table', historyTable, '--thresholds', thresholdsFile, '--state', 'ALARM');

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ALARM +STATE +SEVERITY +SINCE +BY\noven-2\/overheat +ALARM +critical +\S+ +-\n$/);
  });

  it('refuses thresholds it cannot read with one line and exit code 2', async () => {
    const result = await run('--state-table', stateTable, '--history-table', historyTable, '--thresholds', join(dir, 'missing.json'));

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*missing\.json/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('query alarms --target aws: the states, and one device\'s transitions and commands oldest first', async () => {
    const tables = ['--state-table', stateTable, '--history-table', historyTable, '--thresholds', thresholdsFile];
    const json = await runCli('query.ts', 'alarms', ...tables, '--device', 'oven-1', '--json');
    const text = await runCli('query.ts', 'alarms', ...tables, '--device', 'oven-1');
    const fleet = await runCli('query.ts', 'alarms', ...tables);

    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { states: { alarmId: string; state: string }[]; history: { kind: string }[] };
    expect(body.states.map((s) => `${s.alarmId} ${s.state}`)).toEqual(['oven-1/overheat ACKNOWLEDGED']);
    // The raise first; the acknowledgement and its command share one time, in either order.
    expect(body.history.map((e) => e.kind)).toEqual(['transition', expect.any(String), expect.any(String)]);
    expect(body.history.map((e) => e.kind).sort()).toEqual(['command', 'transition', 'transition']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^HISTORY\nTIME +RULE +WHAT +BY\n\S+ +overheat +OK -> ALARM \(reading\) +-\n/m);
    expect(text.stdout).toMatch(/^\S+ +overheat +ALARM -> ACKNOWLEDGED \(acknowledge\) +night-shift: "fan replaced"$/m);
    expect(text.stdout).toMatch(/^\S+ +overheat +command acknowledge: accepted +night-shift: "fan replaced"$/m);
    expect(fleet.code).toBe(0);
    expect(fleet.stdout).toMatch(/^oven-2\/overheat +oven-2 +ALARM +critical/m);
    expect(fleet.stderr).toMatch(/pass --device ID/);
  });
});
