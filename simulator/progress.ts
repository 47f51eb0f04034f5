/**
 * Live progress on stderr: one line redrawn in place on a terminal, plain lines otherwise (a log
 * file or a CI console would otherwise fill with carriage returns).
 */
import type { ProgressOptions } from './options.js';
import type { FleetSnapshot } from './stats.js';

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMs = (ms: number | null): string => (ms === null ? '-' : ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`);

/** One progress line. */
export function formatProgress(s: FleetSnapshot): string {
  return (
    `[${s.elapsedS.toFixed(0).padStart(4)}s] connected ${fmtInt(s.connected)}/${fmtInt(s.devices)}` +
    `  sent ${fmtInt(s.sentPerS)}/s  acked ${fmtInt(s.ackedPerS)}/s` +
    `  p50 ${fmtMs(s.latencyMs.p50)} p99 ${fmtMs(s.latencyMs.p99)}` +
    `  errors ${fmtInt(s.errors)}  alarms ${fmtInt(s.alarms)}  buffered ${fmtInt(s.buffered)}  rss ${fmtInt(s.rssMiB)}MiB`
  );
}

/** Writes snapshots to a stream. */
export class ProgressPrinter {
  private readonly stream: NodeJS.WritableStream;
  private readonly tty: boolean;
  private drawn = false;

  constructor(options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean((this.stream as { isTTY?: boolean }).isTTY);
  }

  /** How often to print when not told: every second on a terminal, every 5 s in a log. */
  get defaultIntervalMs(): number {
    return this.tty ? 1000 : 5000;
  }

  print(snapshot: FleetSnapshot): void {
    const line = formatProgress(snapshot);
    if (this.tty) {
      // Carriage return, then erase the line (ECMA-48 EL, CSI 2 K), so a shorter line leaves no tail.
      this.stream.write(`\r\u001b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the redrawn line so what follows starts on a fresh one. */
  finish(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  /** A message between progress lines. */
  note(message: string): void {
    this.finish();
    this.stream.write(`${message}\n`);
  }
}
