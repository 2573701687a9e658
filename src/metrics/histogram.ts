import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Latencies are recorded in microseconds, to 3 significant digits, and reported in milliseconds. */
export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary | undefined {
  if (latenciesMs.length === 0) return undefined;
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
  for (const ms of latenciesMs) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  const toMs = (micros: number) => Math.round(micros) / 1000;
  const summary = {
    count: latenciesMs.length,
    p50: toMs(histogram.getValueAtPercentile(50)),
    p95: toMs(histogram.getValueAtPercentile(95)),
    p99: toMs(histogram.getValueAtPercentile(99)),
    max: toMs(histogram.maxValue),
  };
  histogram.destroy();
  return summary;
}
