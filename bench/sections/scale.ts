/**
 * The `scale` section: a large fleet of simulated devices (the simulator's `runFleet`, in its own
 * process) against the stack (in another process, so its CPU and memory are its own), with raw
 * aedes under the same fleet as the baseline.
 */
import type { FleetSummary } from '../../simulator/summary.js';
import type { FleetSnapshot } from '../../simulator/stats.js';
import { forkFleet } from '../load/children.js';
import type { FleetChildConfig } from '../load/fleet-child.js';
import type { BenchFigure } from '../report/figure.js';
import { figure } from '../report/figure.js';
import { median, round } from '../report/stats.js';
import { forkTarget } from '../targets/forked-target.js';
import type { TargetConfig, TargetResult } from '../targets/target-child.js';
import type { SectionContext } from './section.js';

export interface ScaleOptions {
  readonly runs: number;
  readonly devices: number;
  /** Readings per second per device (0.1: one every 10 s). */
  readonly rate: number;
  readonly durationS: number;
  /** New connections per second while the fleet connects. */
  readonly rampPerS: number;
  readonly progress: (line: string) => void;
}

interface ScaleRun {
  readonly target: TargetResult;
  readonly fleet: FleetSummary;
  /** Devices connected when the measured window opened. */
  readonly connectedAtWindow: number;
}

/** Share of the fleet that must be connected for the measured window to open. */
const CONNECTED_SHARE = 0.99;

async function scaleRun(kind: TargetConfig['kind'], options: ScaleOptions): Promise<ScaleRun> {
  const target = await forkTarget({ kind });
  try {
    const fleetOptions: FleetChildConfig = {
      progressIntervalMs: 200,
      devices: options.devices,
      rate: options.rate,
      durationS: options.durationS,
      endpoint: `mqtt://127.0.0.1:${target.port}`,
      // With the stack, the fleet registers its devices in the stack's registry; raw aedes takes anyone.
      ...(target.dataDir === null ? {} : { dataDir: target.dataDir }),
      rampPerS: options.rampPerS,
      seed: 'bench-scale',
      alarms: false,
      drainTimeoutS: 30,
      lingerS: 0,
    };
    let measuring = false;
    let connectedAtWindow = 0;
    const rampS = options.devices / options.rampPerS;
    const fleet = await forkFleet(fleetOptions, (value) => {
      // The window opens once the ramp is over and (nearly) every device is connected: the steady
      // state, not the connect storm. "Nearly": a device whose connect timed out in the storm is
      // still backing off to reconnect.
      const snapshot = value as FleetSnapshot;
      if (!measuring && snapshot.elapsedS >= rampS && snapshot.connected >= options.devices * CONNECTED_SHARE) {
        measuring = true;
        connectedAtWindow = snapshot.connected;
        target.measure();
      }
    });
    const summary = await fleet.go();
    if (!measuring) throw new Error(`scale: at most ${summary.connected} of ${options.devices} devices were connected at once (${summary.lastError ?? 'no error'})`);
    if (summary.acked + summary.dropped !== summary.generated) {
      throw new Error(`scale: ${summary.acked} of ${summary.generated} readings acknowledged, ${summary.dropped} dropped (${summary.lastError ?? 'no error'})`);
    }
    const result = await target.finish(kind === 'pipeline' ? summary.acked : 0);
    if (kind === 'pipeline' && (result.storedLatencyMs?.count ?? 0) === 0) {
      throw new Error(`scale: no reading was due after all ${options.devices} devices had connected; the run must outlast the connect ramp (durationS ${options.durationS})`);
    }
    return { target: result, fleet: summary, connectedAtWindow };
  } catch (error) {
    target.kill();
    throw error;
  }
}

/** 10,000 devices (or `devices`) at one reading every 10 s: raw aedes and the stack, interleaved. */
export async function runScale(options: ScaleOptions): Promise<BenchFigure[]> {
  const offered = options.devices * options.rate;
  options.progress(
    `scale: ${options.devices.toLocaleString('en-US')} devices x ${options.rate} readings/s (${offered.toLocaleString('en-US')} msg/s) for ${options.durationS} s, ${options.runs} runs each on raw aedes and the stack`,
  );
  const raw: ScaleRun[] = [];
  const stack: ScaleRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    raw.push(await scaleRun('raw', options));
    stack.push(await scaleRun('pipeline', options));
    const r = raw[i] as ScaleRun;
    const s = stack[i] as ScaleRun;
    options.progress(
      `  run ${i + 1}: stack CPU ${round(s.target.cpuPct)}% of a core, RSS ${round(s.target.peakRssMiB)} MiB, stored p50 ${round(s.target.storedLatencyMs?.p50 ?? Number.NaN, 1)} / p99 ${round(s.target.storedLatencyMs?.p99 ?? Number.NaN, 1)} ms, PUBACK p50 ${s.fleet.latencyMs.p50} ms; raw aedes CPU ${round(r.target.cpuPct)}%, RSS ${round(r.target.peakRssMiB)} MiB, PUBACK p50 ${r.fleet.latencyMs.p50} ms`,
    );
  }
  const n = `${options.devices}-devices`;
  const of = (runs: ScaleRun[], pick: (r: ScaleRun) => number) => runs.map(pick);
  return [
    figure(`scale-${n}-cpu`, '% of one core', of(stack, (r) => r.target.cpuPct), of(raw, (r) => r.target.cpuPct), {
      digits: 1,
      note: `stack process CPU once the fleet is connected, ${offered} msg/s; baseline: raw aedes under the same fleet; the simulator used ${round(median(of(stack, (r) => r.fleet.cpu.percentOfOneCore)))}%`,
      detail: {
        connectedAtWindow: median(of(stack, (r) => r.connectedAtWindow)),
        windowS: round(median(of(stack, (r) => r.target.windowS)), 1),
        reconnects: median(of(stack, (r) => r.fleet.reconnects)),
      },
    }),
    figure(`scale-${n}-rss`, 'MiB', of(stack, (r) => r.target.peakRssMiB), of(raw, (r) => r.target.peakRssMiB), {
      note: `stack process peak RSS with every device connected; baseline: raw aedes; the stack idle before the fleet: ${round(median(of(stack, (r) => r.target.idleRssMiB)))} MiB`,
    }),
    figure(`scale-${n}-stored-p50`, 'ms', of(stack, (r) => r.target.storedLatencyMs?.p50 ?? Number.NaN), of(raw, (r) => r.fleet.latencyMs.p50 ?? Number.NaN), {
      digits: 1,
      note: 'reading due time to committed in store.db; baseline: publish to PUBACK on raw aedes under the same fleet',
    }),
    figure(`scale-${n}-stored-p99`, 'ms', of(stack, (r) => r.target.storedLatencyMs?.p99 ?? Number.NaN), of(raw, (r) => r.fleet.latencyMs.p99 ?? Number.NaN), { digits: 1 }),
    figure(`scale-${n}-stored-max`, 'ms', of(stack, (r) => r.target.storedLatencyMs?.max ?? Number.NaN), of(raw, (r) => r.fleet.latencyMs.max ?? Number.NaN), { digits: 1 }),
    figure(`scale-${n}-puback-p99`, 'ms', of(stack, (r) => r.fleet.latencyMs.p99 ?? Number.NaN), of(raw, (r) => r.fleet.latencyMs.p99 ?? Number.NaN), {
      digits: 1,
      note: 'publish to PUBACK as the simulated devices saw it',
    }),
  ];
}

/** `--only scale`. */
export async function scaleSection({ profile, progress }: SectionContext): Promise<readonly BenchFigure[]> {
  return runScale({ runs: profile.runs, ...profile.scale, progress });
}
