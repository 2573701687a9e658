import type { LatencyDistribution } from '../metrics/series.js';
import { byScenario, figure, listText, measuredRows, strategyColor, strategyIndex, type MeasuredRow } from './html-figure.js';
import type { Report } from './model.js';
import { esc, legend, linear, marker, niceTicks, num, svgOpen, xAxis, yAxis, type Plot } from './svg.js';

interface Series {
  strategy: string;
  index: number;
  distribution: LatencyDistribution;
  total: number;
}

const PLOT: Plot = { width: 720, height: 280, left: 56, right: 704, top: 14, bottom: 232 };

/** One chart per scenario: how answered reads spread over latency, one line per strategy. */
export function latencyCharts(report: Report): string {
  const indexOf = strategyIndex(report);
  const rows = measuredRows(report).filter((row) => row.metrics.readLatencyDistribution !== null);
  const groups = byScenario(report, rows);
  if (groups.length === 0) return '<p class="empty">No read was answered in this run, so there is no latency to chart.</p>';
  const charts = groups.map(([scenario, list], i) => latencyChart(`latency-${i}`, scenario, list.map((row) => series(row, indexOf(row.strategy)))));
  return `<div class="pairs">${charts.join('')}</div>`;
}

function series(row: MeasuredRow, index: number): Series {
  const distribution = row.metrics.readLatencyDistribution!;
  return { strategy: row.strategy, index, distribution, total: distribution.counts.reduce((sum, count) => sum + count, 0) };
}

function latencyChart(id: string, scenario: string, list: Series[]): string {
  // Every row buckets on the same fixed bounds (LATENCY_BOUNDS_MS), so the first row's serve all.
  const bounds = list[0]!.distribution.boundsMs;
  const [lo, hi] = bucketRange(list);
  const slot = (PLOT.right - PLOT.left) / (hi - lo + 1);
  const x = (bucket: number) => PLOT.left + (bucket - lo + 0.5) * slot;
  const shares = list.map((s) => s.distribution.counts.map((count) => (s.total === 0 ? 0 : (100 * count) / s.total)));
  const yTicks = niceTicks(Math.max(...shares.flat()));
  const y = linear(yTicks.at(-1)!, PLOT.bottom, PLOT.top);

  const edges = Array.from({ length: hi - lo + 2 }, (_, k) => lo + k).filter((edge) => edge <= bounds.length);
  const xTicks = edges.map((edge) => ({ x: PLOT.left + (edge - lo) * slot, label: edge === 0 ? '0' : num(bounds[edge - 1]!) }));
  const lines = list.map((s, i) => seriesPath(s, shares[i]!, lo, hi, x, y, bounds));
  const title = `Read latency, ${scenario}: share of answered reads per latency bucket, by strategy`;
  const desc = list.map((s) => `${s.strategy}: ${s.total} reads, median in ${bucketText(medianBucket(s.distribution), bounds)}`).join('; ');
  const svg =
    svgOpen(id, PLOT, title, desc) +
    yAxis(PLOT, yTicks, y, 'share of reads (%)') +
    xAxis(PLOT, xTicks, 'read latency (ms, log scale)') +
    lines.join('') +
    '</svg>';
  const key = legend(list.map((s) => ({ label: `${s.strategy} (${s.total} reads)`, swatch: swatch(s.index) })));
  const caption = `<strong>${esc(scenario)}</strong>: read latency of ${esc(listText(list.map((s) => s.strategy)))}`;
  return figure('latency', { scenario }, caption, svg + key);
}

/** The buckets any series has reads in, with an empty one either side so a peak is not cut off. */
function bucketRange(list: readonly Series[]): [number, number] {
  const used = list.flatMap((s) => s.distribution.counts.flatMap((count, i) => (count > 0 ? [i] : [])));
  const last = list[0]!.distribution.counts.length - 1;
  if (used.length === 0) return [0, last];
  return [Math.max(0, Math.min(...used) - 1), Math.min(last, Math.max(...used) + 1)];
}

function seriesPath(s: Series, shares: readonly number[], lo: number, hi: number, x: (b: number) => number, y: (v: number) => number, bounds: readonly number[]): string {
  const buckets = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  const points = buckets.map((b) => `${num(x(b))},${num(y(shares[b]!))}`).join(' ');
  const marks = buckets.map((b) => marker(s.index, x(b), y(shares[b]!), `${s.strategy}: ${num(shares[b]!, 1)}% of reads (${s.distribution.counts[b]}) took ${bucketText(b, bounds)}`));
  const color = strategyColor(s.index);
  return `<g class="series" data-series="${esc(s.strategy)}" stroke="${color}" fill="${color}"><polyline class="line" fill="none" points="${points}"/>${marks.join('')}</g>`;
}

function medianBucket(distribution: LatencyDistribution): number {
  const half = distribution.counts.reduce((sum, count) => sum + count, 0) / 2;
  let seen = 0;
  return distribution.counts.findIndex((count) => (seen += count) >= half);
}

/** Bucket i holds latencies above bound i-1 and up to bound i; the last one everything slower. */
function bucketText(bucket: number, bounds: readonly number[]): string {
  if (bucket === 0) return `≤ ${num(bounds[0]!)} ms`;
  if (bucket >= bounds.length) return `> ${num(bounds.at(-1)!)} ms`;
  return `${num(bounds[bucket - 1]!)}–${num(bounds[bucket]!)} ms`;
}

function swatch(index: number): string {
  const color = strategyColor(index);
  return `<g stroke="${color}" fill="${color}"><line x1="1" x2="21" y1="6" y2="6" stroke-width="2"/>${marker(index, 11, 6)}</g>`;
}
