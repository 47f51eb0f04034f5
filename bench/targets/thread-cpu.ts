/**
 * CPU time of each thread of this process, from Linux's /proc/self/task/<tid>/stat (utime + stime,
 * in clock ticks of 10 ms), so a benchmark can say which thread a message's CPU goes to. Node 20 has
 * no per-thread CPU clock (`process.threadCpuUsage` came in 23) and names no thread, so the threads are
 * told apart by what they do: the main thread is the one whose id is the process id, the consumers'
 * worker is the busiest of the others over the measured interval, and the rest (V8's GC helpers,
 * libuv's pool doing the stream's fsyncs) are summed. Elsewhere than Linux, `available` is false.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICK_US = 10_000;

export interface ThreadCpuSplit {
  /** The main thread (broker, rule, stream appends), µs of CPU. */
  readonly mainUs: number;
  /** The busiest other thread (the consumers' worker), µs. */
  readonly busiestOtherUs: number;
  /** Every remaining thread, µs. */
  readonly restUs: number;
}

export interface ThreadCpuMeter {
  readonly available: boolean;
  /** CPU per thread since the meter started. Threads that ended before are not counted. */
  read(): ThreadCpuSplit;
}

function ticksByThread(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised name: state is field 3, utime 14 and stime 15 (proc(5)).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export function startThreadCpuMeter(): ThreadCpuMeter {
  if (!existsSync('/proc/self/task')) return { available: false, read: () => ({ mainUs: 0, busiestOtherUs: 0, restUs: 0 }) };
  const start = ticksByThread();
  const main = String(process.pid);
  return {
    available: true,
    read() {
      const deltas = [...ticksByThread()].map(([tid, ticks]) => ({ tid, us: (ticks - (start.get(tid) ?? 0)) * TICK_US }));
      const mainUs = deltas.find((d) => d.tid === main)?.us ?? 0;
      const others = deltas.filter((d) => d.tid !== main).sort((a, b) => b.us - a.us);
      const busiestOtherUs = others[0]?.us ?? 0;
      const restUs = others.slice(1).reduce((sum, d) => sum + d.us, 0);
      return { mainUs, busiestOtherUs, restUs };
    },
  };
}
