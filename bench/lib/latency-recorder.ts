/** Collects latencies in milliseconds and reports percentiles. */
export class LatencyRecorder {
  private readonly samples: number[] = [];

  record(milliseconds: number): void {
    this.samples.push(milliseconds);
  }

  get count(): number {
    return this.samples.length;
  }

  percentile(fraction: number): number {
    if (this.samples.length === 0) return Number.NaN;
    const sorted = [...this.samples].sort((left, right) => left - right);
    return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
  }
}
