/**
 * What every section of `npm run bench` (`--only <section>`) is: a function from the run's sizes to
 * figures. Sections run in the order of {@link SECTIONS}; the flood sections share their runs
 * through {@link SharedRuns} instead of flooding twice.
 */
import type { BenchFigure } from '../report/figure.js';
import type { FloodRun } from './floods.js';

export const SECTIONS = ['use-cases', 'dynamodb', 'store', 'broker', 'durability', 'latency', 'scale', 'shards'] as const;
export type Section = (typeof SECTIONS)[number];

/** Sizes of one run of the benchmarks. */
export interface BenchProfile {
  readonly runs: number;
  /**
   * `rawMinDurationMs`: each raw-broker flood goes on past its message count until it has lasted
   * this long, so that its rate is a steady state and not the first second's noise.
   */
  readonly flood: { readonly clients: number; readonly messagesPerClient: number; readonly inflight: number; readonly rawMinDurationMs: number };
  /** `halfSustained`: also measure at half the pipeline's sustained rate (besides `fixedRate`). */
  readonly latency: { readonly durationMs: number; readonly fixedRate: number; readonly halfSustained: boolean };
  readonly useCases: { readonly records: number };
  /** The ingest use case through the DynamoDB adapter over dynalite. */
  readonly dynamodb: { readonly records: number };
  readonly store: { readonly readings: number; readonly devices: number; readonly querySizes: readonly number[]; readonly queries: number };
  readonly scale: { readonly devices: number; readonly rate: number; readonly durationS: number; readonly rampPerS: number };
  readonly shardCounts: readonly number[];
}

/** What the flood sections learn that a later one reuses. */
export interface SharedRuns {
  /** Median stored rate of the pipeline (durability full): the latency section offers half of it. */
  sustainedPerS?: number;
  /** The broker section's pipeline runs at the pipeline's own shard count: the shards section reuses them. */
  pipelineRuns?: readonly FloodRun[];
}

export interface SectionContext {
  readonly profile: BenchProfile;
  readonly chosen: ReadonlySet<Section>;
  readonly shared: SharedRuns;
  readonly progress: (line: string) => void;
}

export type SectionRunner = (context: SectionContext) => Promise<readonly BenchFigure[]>;
