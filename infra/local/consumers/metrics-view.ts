/** The consumers' counters as the stack's thread sees them: what the worker last sent. */
export interface MetricsView {
  /** One counter's value (0 if never counted): `name` or `Name{dimension=value}`. */
  get(name: string): number;
  /** Every counter, by name. */
  snapshot(): Readonly<Record<string, number>>;
}

export class MirroredMetrics implements MetricsView {
  /** What earlier workers counted (a restarted worker counts from zero again). */
  private carried: Record<string, number> = {};
  private values: Readonly<Record<string, number>> = {};

  /** The worker's counters now. */
  replace(snapshot: Readonly<Record<string, number>>): void {
    this.values = snapshot;
  }

  /** The worker ended: what it counted stays, and the next one's counts add to it. */
  carryOver(): void {
    this.carried = this.snapshot();
    this.values = {};
  }

  get(name: string): number {
    return (this.carried[name] ?? 0) + (this.values[name] ?? 0);
  }

  snapshot(): Readonly<Record<string, number>> {
    const all: Record<string, number> = { ...this.carried };
    for (const [name, value] of Object.entries(this.values)) all[name] = (all[name] ?? 0) + value;
    return Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
