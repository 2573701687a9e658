import { describe, expect, it } from 'vitest';
import type { Outcome, Sample } from '../driver/records.js';
import { latencyDistribution, timeline } from './series.js';

const sample = (end: number, outcome: Outcome, latencyMs = 1): Sample => ({ scenario: 's', phase: 'p', kind: 'read', user: 0, replica: 'replica-1', status: 200, latencyMs, outcome, at: end - latencyMs, end });

describe('timeline', () => {
  it('counts requests by how they ended, in the bucket in which they completed', () => {
    const series = timeline([sample(50, 'hit'), sample(150, 'miss'), sample(160, 'error'), sample(420, 'ok'), sample(99.9, 'hit')])!;
    expect(series.bucketMs).toBe(100);
    expect(series.hits).toEqual([2, 0, 0, 0, 0]);
    expect(series.misses).toEqual([0, 1, 0, 0, 0]);
    expect(series.errors).toEqual([0, 1, 0, 0, 0]);
    expect(series.other).toEqual([0, 0, 0, 0, 1]);
  });

  it('uses one-second buckets for long scenarios, and nothing for none', () => {
    expect(timeline([sample(25_500, 'hit')])).toMatchObject({ bucketMs: 1_000, hits: [...new Array(25).fill(0), 1] });
    expect(timeline([])).toBeNull();
  });
});

describe('latency distribution', () => {
  it('counts each latency under the first bound at or above it, the slowest past the last', () => {
    expect(latencyDistribution([0.1, 0.25, 0.3, 3, 100], [0.25, 1, 10])).toEqual({ boundsMs: [0.25, 1, 10], counts: [2, 1, 1, 1] });
    expect(latencyDistribution([])).toBeNull();
  });
});
