import type { Sample } from '../driver/records.js';

/**
 * The figures charts are drawn from, kept in the report so that any renderer (HTML, a later
 * `hactl report`) can draw them from the saved JSON alone.
 */

/** Requests per time bucket by how they ended, in scenario time. */
export interface Timeline {
  bucketMs: number;
  /** Bucket i covers [i * bucketMs, (i + 1) * bucketMs) of the scenario, by when requests completed. */
  hits: number[];
  misses: number[];
  errors: number[];
  /** Answers to requests that are not reads (logins, logouts, increments). */
  other: number[];
}

/** How many answered requests took how long: counts between log-spaced bounds. */
export interface LatencyDistribution {
  /** Upper bounds in milliseconds; the last bucket holds everything slower than the previous bound. */
  boundsMs: number[];
  counts: number[];
}

/** Powers of two from a quarter of a millisecond to a minute: fine where latencies are, coarse past it. */
export const LATENCY_BOUNDS_MS = Array.from({ length: 19 }, (_, i) => 0.25 * 2 ** i);

/** Per-second buckets from the first request to the last; finer for short scenarios, so a chart has some shape. */
export function timeline(samples: readonly Sample[]): Timeline | null {
  if (samples.length === 0) return null;
  // A loop, not Math.max(...): a scenario at ALB's timing makes hundreds of thousands of samples,
  // more arguments than a call can take.
  const end = samples.reduce((latest, sample) => Math.max(latest, sample.end), -Infinity);
  const bucketMs = end < 5_000 ? 100 : end < 20_000 ? 250 : 1_000;
  const length = Math.floor(end / bucketMs) + 1;
  const series: Timeline = { bucketMs, hits: new Array(length).fill(0), misses: new Array(length).fill(0), errors: new Array(length).fill(0), other: new Array(length).fill(0) };
  for (const sample of samples) {
    const i = Math.max(0, Math.floor(sample.end / bucketMs));
    const list = sample.outcome === 'hit' ? series.hits : sample.outcome === 'miss' ? series.misses : sample.outcome === 'error' ? series.errors : series.other;
    list[i]!++;
  }
  return series;
}

export function latencyDistribution(latenciesMs: readonly number[], boundsMs: readonly number[] = LATENCY_BOUNDS_MS): LatencyDistribution | null {
  if (latenciesMs.length === 0) return null;
  const counts = new Array<number>(boundsMs.length + 1).fill(0);
  for (const ms of latenciesMs) {
    const i = boundsMs.findIndex((bound) => ms <= bound);
    counts[i === -1 ? boundsMs.length : i]!++;
  }
  return { boundsMs: [...boundsMs], counts };
}
