/** The consumers' counters as the stack's thread sees them: what the worker last sent. */
export interface MetricsView {
  /** One counter's value (0 if never counted): `name` or `Name{dimension=value}`. */
  get(name: string): number;
  /** Every counter, by name. */
  snapshot(): Readonly<Record<string, number>>;
}

export class MirroredMetrics implements MetricsView {
  private values: Readonly<Record<string, number>> = {};

  replace(snapshot: Readonly<Record<string, number>>): void {
    this.values = snapshot;
  }

  get(name: string): number {
    return this.values[name] ?? 0;
  }

  snapshot(): Readonly<Record<string, number>> {
    return this.values;
  }
}
