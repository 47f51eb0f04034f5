import { describe, expect, it } from 'vitest';
import { runEntry, type EntryRun } from '../helpers/run-entry.js';

const CLI = 'infra/local/cli/rule.ts';

/** Runs `npm run rule -- ...` the way npm does (tsx), as a real child process. */
function runRuleCli(args: readonly string[]): Promise<EntryRun> {
  return runEntry(CLI, args, { timeoutMs: 20_000 });
}

const reading = '{"ts":1764028800123,"seq":17,"metrics":{"temperature":22.4}}';

describe('npm run rule', () => {
  it("prints the pipeline rule's stream record and partition key as JSON", async () => {
    const run = await runRuleCli(['--topic', 'dt/fleet/sensor-0001/telemetry', '--payload', reading, '--client-id', 'sensor-0001', '--timestamp', '1764028800999', '--json']);

    expect(run).toEqual({
      code: 0,
      stdout: `${JSON.stringify({
        matched: true,
        record: {
          payload: Buffer.from(reading).toString('base64'),
          topic: 'dt/fleet/sensor-0001/telemetry',
          clientId: 'sensor-0001',
          receivedAt: 1764028800999,
        },
        partitionKey: 'sensor-0001',
      })}\n`,
      stderr: '',
    });
  });

  it('reports a message on another topic as not matched, with null record and key', async () => {
    const run = await runRuleCli(['--topic', 'alarms/fleet/sensor-0001', '--payload', reading, '--json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ matched: false, record: null, partitionKey: null });
  });

  it('evaluates the SQL and partition key given on the command line', async () => {
    const sql = "SELECT metrics.temperature AS t, topic(3) AS device FROM 'dt/fleet/+/telemetry' WHERE metrics.temperature > 20";
    const run = await runRuleCli(['--topic', 'dt/fleet/d7/telemetry', '--payload', reading, '--sql', sql, '--partition-key', '${topic(2)}-${seq}', '--json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ matched: true, record: { t: 22.4, device: 'd7' }, partitionKey: 'fleet-17' });
  });

  it('prints a short human-readable rendering without --json', async () => {
    const run = await runRuleCli(['--topic', 'dt/fleet/d1/telemetry', '--payload', 'not json', '--client-id', 'd1', '--timestamp', '5']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('matched\npartition key: d1\nrecord:\n');
    expect(run.stdout).toContain(`"payload": "${Buffer.from('not json').toString('base64')}"`);
  });

  describe.each([
    [['--sql', "SELECT principal() AS p FROM 'a'"], 'error: --sql: unsupported function principal() at 7'],
    [['--sql', "SELECT * FROM 'a' WHERE x IS NULL"], 'error: --sql: unsupported operator IS at 26'],
    [['--partition-key', '${topic(3)'], 'error: --partition-key: unclosed ${ at 0'],
    [['--bogus'], "error: unknown option '--bogus'"],
    [['--timestamp', 'soon'], "error: option '--timestamp <ms>' argument 'soon' is invalid. not an integer from 0 to 9007199254740991"],
  ])('with %j', (extra, line) => {
    it('prints one error line on stderr and exits with code 2', async () => {
      const run = await runRuleCli(['--topic', 'dt/fleet/d1/telemetry', '--payload', '{}', ...extra]);

      expect(run).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
    });
  });

  it('names a missing required flag in one line with exit code 2', async () => {
    const run = await runRuleCli(['--payload', '{}']);

    expect(run).toEqual({ code: 2, stdout: '', stderr: "error: required option '--topic <topic>' not specified\n" });
  });

  it('prints usage on --help and exits 0', async () => {
    const run = await runRuleCli(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--topic <topic>');
    expect(run.stdout).toContain('--json');
    expect(run.stderr).toBe('');
  });
});
