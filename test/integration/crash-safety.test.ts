/**
 * Crash safety (docs/architecture.md, "The local runtime": a PUBACK means "on disk"): the stack runs as a child process and is
 * killed -9 at random moments while QoS 1 publishers send readings with unique (deviceId, seq). Every
 * PUBACKed reading must be stored exactly once, the stream must hold each device's readings in order,
 * and no alarm transition may repeat.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../infra/pipeline.js';
import { DeviceRegistry } from '../../infra/local/registry/index.js';
import { SqliteStore } from '../../lambdas/adapters/local/sqlite-store.js';
import { eventually } from '../helpers/local-stack.js';

const DEVICES = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
const WINDOW = 10;
const KILLS = 4;
const THRESHOLDS = { rules: [{ id: 'battery-low', metric: 'battery', when: { below: 3.3 }, clear: { above: 3.5 }, severity: 'warning' }] };

/** A small seeded PRNG so that a failing run can be replayed with the seed it prints. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Stack {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly exited: Promise<void>;
}

async function startStack(dataDir: string, thresholdsFile: string): Promise<Stack> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'infra/local/main.ts', '--data', dataDir, '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0', '--thresholds', thresholdsFile, '--json'],
    { cwd: process.cwd(), env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start: ${stderr}`)), 60_000);
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { event: string; mqtt?: string };
      if (message.event === 'ready' && message.mqtt) {
        clearTimeout(timer);
        resolve(Number(new URL(message.mqtt).port));
      }
    });
    child.once('exit', (code) => reject(new Error(`stack exited (${code}) before ready: ${stderr}`)));
  });
  return { child, port, exited };
}

/** One device's QoS 1 publisher: keeps a window in flight, resends what was not acknowledged. */
class Publisher {
  readonly acked = new Set<number>();
  private readonly pending: number[] = [];
  private nextSeq = 0;
  private readonly tsOf = new Map<number, number>();
  private client: MqttClient | undefined;

  constructor(
    readonly deviceId: string,
    private readonly password: string,
  ) {}

  async run(port: number, options: { until: () => boolean }): Promise<void> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: this.deviceId,
      username: this.deviceId,
      password: this.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    this.client = client;
    // mqtt.js does not settle in-flight publishes when the socket dies: stop waiting on them then.
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const inFlight = new Set<Promise<void>>();
    while (!options.until() && client.connected) {
      const seq = this.pending.shift() ?? this.nextSeq++;
      if (!this.tsOf.has(seq)) this.tsOf.set(seq, 1_764_000_000_000 + seq * 1000);
      const payload = JSON.stringify({ ts: this.tsOf.get(seq), seq, metrics: { battery: seq % 20 < 10 ? 3.0 : 3.8 } });
      const send: Promise<void> = client.publishAsync(telemetryTopic(this.deviceId), payload, { qos: 1 }).then(
        () => {
          this.acked.add(seq);
        },
        () => {
          // Not acknowledged: a real device resends it after reconnecting.
          if (!this.acked.has(seq)) this.pending.push(seq);
        },
      ).finally(() => inFlight.delete(send));
      inFlight.add(send);
      if (inFlight.size >= WINDOW) await Promise.race([...inFlight, closed]);
    }
    await Promise.race([Promise.allSettled(inFlight), closed]);
  }

  /** The connection died (the broker was killed): everything still in flight must be resent. */
  abandon(): void {
    this.client?.end(true);
    for (let seq = 0; seq < this.nextSeq; seq++) if (!this.acked.has(seq) && !this.pending.includes(seq)) this.pending.push(seq);
    this.pending.sort((a, b) => a - b);
  }
}

describe('crash safety of the local stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ft-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stores every acknowledged reading exactly once, in order, across repeated kill -9', { timeout: 240_000 }, async () => {
    // A fixed default seed, so a failure in CI can be replayed; CRASH_SEED explores other kill timings.
    const seed = Number(process.env.CRASH_SEED ?? 17);
    const random = prng(seed);
    const thresholdsFile = join(dataDir, 'thresholds.json');
    writeFileSync(thresholdsFile, JSON.stringify(THRESHOLDS));
    const registry = DeviceRegistry.open(join(dataDir, 'devices.db'));
    const publishers = DEVICES.map((id) => new Publisher(id, registry.upsert(id, { type: 'tracker' }).password));
    registry.close();

    for (let round = 0; round <= KILLS; round++) {
      const stack = await startStack(dataDir, thresholdsFile);
      const last = round === KILLS;
      const deadline = Date.now() + (last ? 1_500 : 300 + random() * 1_200);
      const running = publishers.map((p) => p.run(stack.port, { until: () => Date.now() > deadline }).catch(() => undefined));
      if (last) {
        await Promise.all(running);
      } else {
        // The random moment of the kill is what this test is about, not a wait for a condition.
        await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
        stack.child.kill('SIGKILL');
        await stack.exited;
        await Promise.all(running);
        for (const p of publishers) p.abandon();
        continue;
      }

      // The last round: let the consumers catch up, then stop gracefully.
      const store = SqliteStore.open(join(dataDir, 'store.db'), { readonly: true });
      try {
        await eventually(
          () => (publishers.every((p) => [...p.acked].every((seq) => store.queryReadings({ deviceId: p.deviceId, since: 1_764_000_000_000 + seq * 1000, until: 1_764_000_000_000 + seq * 1000 + 1 }).length === 1)) ? true : undefined),
          60_000,
          `every acknowledged reading stored (seed ${seed})`,
        );
        for (const p of publishers) {
          const rows = store.queryReadings({ deviceId: p.deviceId, order: 'asc' });
          const seqs = rows.map((row) => row.seq);
          expect(new Set(seqs).size, `${p.deviceId} stored a reading twice (seed ${seed})`).toBe(seqs.length);
          for (const seq of p.acked) expect(seqs, `${p.deviceId} lost acknowledged seq ${seq} (seed ${seed})`).toContain(seq);
          expect(p.acked.size).toBeGreaterThan(0);
        }
        const transitions = store.queryTransitions({ order: 'asc' });
        const byAlarm = new Map<string, { state: string; ts: number }[]>();
        for (const t of transitions) byAlarm.set(t.alarmId, [...(byAlarm.get(t.alarmId) ?? []), t]);
        for (const [alarmId, list] of byAlarm) {
          list.sort((a, b) => a.ts - b.ts);
          list.forEach((t, i) => expect(t.state, `${alarmId} transition ${i} repeats (seed ${seed})`).toBe(i % 2 === 0 ? 'ALARM' : 'OK'));
        }
        expect(byAlarm.size).toBe(DEVICES.length);
      } finally {
        store.close();
      }
      stack.child.kill('SIGTERM');
      await stack.exited;
    }

    // The stream holds each device's readings in order: a resend may repeat a reading that was
    // committed but not acknowledged before the kill, but never overtakes an earlier one.
    const db = new Database(join(dataDir, 'stream.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT data FROM records ORDER BY shard_index, seq').all() as { data: Buffer }[];
      const firstSeen = new Map<string, number[]>();
      const seen = new Set<string>();
      for (const { data } of rows) {
        const envelope = JSON.parse(data.toString('utf8')) as { topic: string; payload: string };
        const deviceId = envelope.topic.split('/')[2]!;
        const { seq } = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as { seq: number };
        if (seen.has(`${deviceId}/${seq}`)) continue;
        seen.add(`${deviceId}/${seq}`);
        firstSeen.set(deviceId, [...(firstSeen.get(deviceId) ?? []), seq]);
      }
      for (const [deviceId, seqs] of firstSeen) expect(seqs, `${deviceId} out of order (seed ${seed})`).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      db.close();
    }
  });
});
