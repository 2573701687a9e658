import { describe, expect, it } from 'vitest';
import { overheadText } from './cells.js';

describe("the settings line's balancer overhead", () => {
  it('states the median with its spread over the rounds when every round saw the balancer slower, and no p99', () => {
    expect(overheadText('hactl balancer', { p50: 0.52, p99: 0.12, samples: 200, p50ByRound: [0.41, 0.66, 0.5, 0.55, 0.48] })).toBe(
      ' · hactl balancer adds 0.52 ms to the median request over direct requests (0.41 to 0.66 ms over 5 rounds of 40 requests each way)',
    );
  });

  it('calls a difference within noise when a round saw the direct path as slow or slower, never an amount added', () => {
    const text = overheadText('HAProxy', { p50: 0.05, p99: 0, samples: 200, p50ByRound: [0.21, -0.1, 0.04, 0, 0.08] });
    expect(text).toBe(' · HAProxy adds no measurable latency to the median request (0.05 ms, within noise: -0.10 to 0.21 ms over 5 rounds of 40 requests each way)');
    expect(text).not.toMatch(/p99/);
  });

  it('says the latency could not be measured when the direct path was the slower one in every round (an app slower than its balancer adds)', () => {
    expect(overheadText('hactl balancer', { p50: 0, p99: 7.6, samples: 200, p50ByRound: [-40.05, -39.8, -39.23, -39.9, -40] })).toBe(
      " · hactl balancer's latency could not be measured: direct requests were the slower ones in every round (-40.05 to -39.23 ms over 5 rounds of 40 requests each way); the app's own latency varies more than a balancer adds",
    );
  });

  it('reads a report written before the rounds: its p50 alone, saying the spread was not measured', () => {
    expect(overheadText('hactl balancer', { p50: 0.96, p99: 0.12, samples: 200 })).toBe(
      ' · hactl balancer adds 0.96 ms to the median request over direct requests (200 each way; spread not measured)',
    );
    expect(overheadText('hactl balancer', { p50: 0, p99: 0, samples: 200 })).toBe(' · hactl balancer adds nothing to the median request that 200 requests each way could measure');
    expect(overheadText('hactl balancer', undefined)).toBe('');
  });
});
