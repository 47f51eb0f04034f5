/** The machine a run measured on, printed above every table: absolute figures mean little without it. */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { round } from './stats.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run began: other work on the machine skews absolute figures. */
  readonly loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
  };
}
