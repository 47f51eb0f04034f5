/**
 * `npm run demo`: the product in one command. Starts the local stack, registers a small mixed fleet,
 * scripts anomalies (an overheat, a low battery, a device going silent) and prints, as they happen,
 * the readings stored and every alarm raised and cleared, then where to look next.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import mqtt from 'mqtt';
import { parseThresholds, type ThresholdRules } from '../lambdas/domain/thresholds.js';
import type { AlarmEvent } from '../lambdas/domain/model.js';
import { stderrLog } from '../lambdas/adapters/local/observability.js';
import { pipeline } from '../infra/pipeline.js';
import { startLocalStack } from '../infra/local/stack.js';
import { integerArgument, runCli, UsageError } from '../infra/cli/cli-support.js';
import { deviceIdOf } from './backoff.js';
import { runFleet } from './fleet.js';
import { kindOf, type DeviceKind } from './profiles/index.js';

/** The demo's silence window and longest debounce: short enough to watch (config/thresholds.json has 300 s). */
const DEMO_SILENCE_S = 20;
const DEMO_MAX_DEBOUNCE_S = 10;
const DEMO_LAST_SEEN_BOUND_MS = 2_000;
/** The scripted silence: the window, the bound and the 5 s offline check fit in it, so the alarm shows before the device is back. */
const DEMO_QUIET_S = 45;
const OPERATOR = 'demo-console';

function demoThresholds(file: string, silenceS: number): ThresholdRules {
  let json: { rules?: { when?: { silentFor?: { seconds: number } }; for?: { seconds?: number } }[] };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch (error) {
    throw new UsageError(`--thresholds: cannot read ${file}: ${(error as Error).message}`);
  }
  for (const rule of json.rules ?? []) {
    if (rule.when?.silentFor) rule.when.silentFor = { seconds: silenceS };
    if (rule.for?.seconds !== undefined) rule.for.seconds = Math.min(rule.for.seconds, DEMO_MAX_DEBOUNCE_S);
  }
  // B, how far the stored lastSeen may trail, is at least 60 s by default (writes saved on AWS): the
  // demo's 20 s silence would then raise only after 80 s, past the device's return. Locally a write
  // is cheap: 2 s.
  return { ...parseThresholds(json), lastSeenBoundFloorMs: DEMO_LAST_SEEN_BOUND_MS };
}

const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** One line per event, saying what was compared for the rule's kind (docs/architecture.md, "Conditions"). */
function describeEvent(event: AlarmEvent, rules: ThresholdRules): string {
  const kind = rules.rules.find((rule) => rule.id === event.ruleId)?.kind;
  const raisedNow = event.state === 'ALARM';
  let what: string;
  if (kind === 'silentFor' || kind === 'metricSilentFor') {
    const who = kind === 'silentFor' ? '' : `${event.metric} `;
    what = raisedNow ? `${who}silent for ${event.value ?? event.threshold} s` : `${who}reporting again`;
  } else if (kind === 'unchangedFor') {
    what = raisedNow ? `${event.metric} unchanged for ${event.value} s` : `${event.metric} changing again`;
  } else if (kind === 'risesBy' || kind === 'fallsBy') {
    what = `${event.metric} ${kind === 'risesBy' ? 'rose' : 'fell'} by ${event.value ?? '-'} (threshold ${event.threshold})`;
  } else {
    what = `${event.metric} ${event.value} (threshold ${event.threshold})`;
  }
  return `${raisedNow ? 'RAISED ' : 'CLEARED'} ${event.severity.padEnd(8)} ${event.alarmId.padEnd(28)} ${what}`;
}

interface DemoOptions {
  readonly data: string;
  readonly devices: number;
  readonly duration: number;
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly thresholds: string;
  readonly seed: string;
}

type Out = (line: string) => void;

/** Which devices the script picks for each anomaly, by kind (the mixed profile's order). */
interface Script {
  readonly hot: string[];
  readonly warm: string[];
  readonly lowBattery: string[];
  readonly quiet: string[];
}

const program = new Command('demo')
  .description('Run the local stack with a small simulated fleet and scripted anomalies, printing readings and alarms as they happen.')
  .option('--data <dir>', 'data directory', './data')
  .option('--devices <n>', 'simulated devices', integerArgument({ min: 9, max: 10_000 }), 24)
  .option('--duration <s>', 'seconds of readings', integerArgument({ min: 75, max: 86_400 }), 90)
  .option('--mqtt-port <n>', 'MQTT port (0: any free port)', integerArgument({ min: 0, max: 65_535 }), 1883)
  .option('--http-port <n>', 'port of the console (the fleet dashboard; 0: any free port)', integerArgument({ min: 0, max: 65_535 }), 8080)
  .option('--thresholds <file>', 'threshold rules (silentFor windows are shortened to 20 s for the demo)', 'config/thresholds.json')
  .option('--seed <s>', 'the same seed gives the same readings', 'demo')
  .action(runDemo);

async function runDemo(opts: DemoOptions): Promise<void> {
  const out: Out = (line) => process.stdout.write(`${line}\n`);
  const thresholds = demoThresholds(resolve(opts.thresholds), DEMO_SILENCE_S);
  const log = stderrLog({ name: 'demo', level: process.env.LOG_LEVEL ?? 'warn' });
  const stack = await startLocalStack({
    dataDir: opts.data,
    mqttPort: opts.mqttPort,
    wsPort: null,
    httpPort: opts.httpPort,
    thresholds,
    log,
    offlineCheckIntervalMs: 5_000,
  });
  const url = `mqtt://127.0.0.1:${stack.mqttPort}`;
  out(`fleet-telemetry demo: local stack on ${url}, data in ${stack.dataDir}`);
  out(`console (open in a browser while it runs): ${stack.consoleUrl}`);
  const script = pickScript(opts.devices);
  printScript(out, opts, script);

  const { password } = stack.registry.upsert(OPERATOR, { role: 'operator' });
  const alarms = await watchAlarms(url, password, out, thresholds);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const ticker = tickStored(stack.store, out);

  try {
    const summary = await runFleet({
      devices: opts.devices,
      rate: 1,
      durationS: opts.duration,
      endpoint: url,
      dataDir: stack.dataDir,
      profile: 'mixed',
      prefix: 'demo',
      seed: opts.seed,
      alarms: false,
      scenario: {
        anomalies: [
          { kind: 'overheat', devices: [...script.hot, ...script.warm], at: 20, for: 30 },
          { kind: 'battery-low', devices: script.lowBattery, at: 45, for: 20 },
          { kind: 'silent', devices: script.quiet, at: 30, for: DEMO_QUIET_S },
        ],
      },
      signal: abort.signal,
    });
    await stack.whenIdle().catch(() => undefined);
    out('');
    out(`done: ${summary.acked} readings acknowledged, ${stack.store.countReadings({})} stored; ${alarms.raised} alarms raised, ${alarms.cleared} cleared`);
    out(`publish-to-PUBACK latency p50 ${summary.latencyMs.p50 ?? '-'} ms, p99 ${summary.latencyMs.p99 ?? '-'} ms`);
  } finally {
    clearInterval(ticker);
    await alarms.operator.endAsync(true).catch(() => undefined);
    await stack.stop();
  }
  printNextSteps(out, opts.data);
}

function pickScript(devices: number): Script {
  const ids = (kind: DeviceKind, count: number) =>
    Array.from({ length: devices }, (_, i) => i).filter((i) => kindOf('mixed', i) === kind).slice(0, count).map((i) => deviceIdOf('demo', i));
  return { hot: ids('env-sensor', 2), warm: ids('cold-chain', 1), lowBattery: ids('env-sensor', 3).slice(2), quiet: ids('vehicle', 1) };
}

function printScript(out: Out, opts: DemoOptions, { hot, warm, lowBattery, quiet }: Script): void {
  out(`${opts.devices} devices (environment sensors, cold-chain trackers, vehicles) for ${opts.duration} s; scripted:`);
  out(`  t=20s  ${hot.join(', ')} overheat for 30 s          -> overheat alarms, cleared after`);
  out(`  t=20s  ${warm.join(', ')} fridge warms up for 30 s           -> reefer-warming (a rise of 4 within 15 min), cold-chain-breach after ${DEMO_MAX_DEBOUNCE_S} s, cleared after`);
  out(`  t=45s  ${lowBattery.join(', ')} battery runs low for 20 s        -> battery-low alarm, cleared after`);
  out(`  t=30s  ${quiet.join(', ')} goes silent for ${DEMO_QUIET_S} s             -> silent alarm after about ${DEMO_SILENCE_S * 1.5} s (window + write bound), cleared when it is back`);
  out('');
}

/** Subscribes as an operator and prints every alarm event as it arrives, counting them. */
async function watchAlarms(url: string, password: string, out: Out, rules: ThresholdRules): Promise<{ operator: mqtt.MqttClient; raised: number; cleared: number }> {
  const operator = await mqtt.connectAsync(url, { clientId: OPERATOR, username: OPERATOR, password, protocolVersion: 4 });
  await operator.subscribeAsync(pipeline.topics.alarmsFilter, { qos: 1 });
  const counts = { operator, raised: 0, cleared: 0 };
  operator.on('message', (_topic, payload) => {
    const event = JSON.parse(payload.toString('utf8')) as AlarmEvent;
    if (event.state === 'ALARM') counts.raised += 1;
    else counts.cleared += 1;
    out(`${clockTime(Date.now())}  ${describeEvent(event, rules)}`);
  });
  return counts;
}

/** Every 10 s: readings stored (and the rate since the last line), alarms active. */
function tickStored(store: Awaited<ReturnType<typeof startLocalStack>>['store'], out: Out): NodeJS.Timeout {
  let lastStored = store.countReadings({});
  return setInterval(() => {
    const stored = store.countReadings({});
    const active = store.queryAlarmStates({ state: 'ALARM' }).length;
    out(`${clockTime(Date.now())}  stored ${stored} readings (+${Math.round((stored - lastStored) / 10)}/s), ${active} alarms active`);
    lastStored = stored;
  }, 10_000);
}

function printNextSteps(out: Out, dataDir: string): void {
  const data = dataDir === './data' ? '' : ` --data ${dataDir}`;
  out('');
  out('Where to look next:');
  out(`  npm run query -- readings --limit 10${data}     the newest readings`);
  out(`  npm run query -- alarms${data}                  alarm states and transitions`);
  out(`  npm run query -- rejects${data}                 rejected messages with reasons`);
  out(`  npm run query -- stream${data}                  shards, sequence numbers, consumer lag`);
  out('  npm start                                    the stack on its own; then npm run simulate -- --devices 100');
}

await runCli(program);
