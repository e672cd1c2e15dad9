/** When each high watermark of a partition was first seen. */
interface WatermarkSample {
  atMs: number;
  highWatermark: bigint;
}

/** A topic partition's offsets as the Kafka admin client returns them. */
export interface PartitionWatermarks {
  partition: number;
  high: string;
  low: string;
}

export interface PartitionLag {
  /** Messages the reader has not consumed yet, over all partitions. */
  lagMessages: number;
  /** Age of the oldest message the reader has not consumed, to within one measurement interval. */
  behindMs: number;
}

/**
 * Measures how far one reader of a topic (a consumer group, or this instance's grant state) is
 * behind. The admin API returns no arrival time of a message, so the tracker remembers when it
 * first saw each high watermark. The oldest pending message is as old as the first sample whose
 * watermark passed the reader's offset.
 */
export class PartitionLagTracker {
  private readonly samples = new Map<number, WatermarkSample[]>();

  reset(): void {
    this.samples.clear();
  }

  /**
   * Takes a measurement at `nowMs`. `nextOffsetOf` returns the reader's next offset on a
   * partition, or undefined when it has consumed nothing there, which counts from the low watermark.
   */
  measure(nowMs: number, watermarks: readonly PartitionWatermarks[], nextOffsetOf: (partition: number) => bigint | undefined): PartitionLag {
    let lag = 0n;
    let behindMs = 0;
    for (const { partition, high, low } of watermarks) {
      const highWatermark = BigInt(high);
      const next = nextOffsetOf(partition) ?? BigInt(low);

      const samples = this.samples.get(partition) ?? [];
      if (samples.at(-1)?.highWatermark !== highWatermark) samples.push({ atMs: nowMs, highWatermark });
      if (next >= highWatermark) {
        this.samples.set(partition, []);
        continue;
      }
      lag += highWatermark - next;
      // Samples before the first one whose watermark passed `next` are no longer needed.
      const firstPending = samples.findIndex((sample) => sample.highWatermark > next);
      const pending = samples.slice(firstPending);
      this.samples.set(partition, pending);
      behindMs = Math.max(behindMs, nowMs - pending[0].atMs);
    }
    return { lagMessages: Number(lag), behindMs };
  }
}
