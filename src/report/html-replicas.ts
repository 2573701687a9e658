import { byScenario, figure, measuredRows, strategyColor, strategyIndex, type MeasuredRow } from './html-figure.js';
import type { Report } from './model.js';
import { esc, linear, niceTicks, num, svgOpen, xAxis, yAxis, type Plot } from './svg.js';

const PLOT: Plot = { width: 260, height: 180, left: 58, right: 250, top: 18, bottom: 138 };

export const UNKNOWN_REPLICAS = "unknown (no answer named its replica: the app profile's replica: key says where answers do)";

/** Small multiples: one bar chart per strategy × scenario, grouped by scenario. */
export function replicaCharts(report: Report): string {
  const indexOf = strategyIndex(report);
  const groups = byScenario(report, measuredRows(report));
  if (groups.length === 0) return '<p class="empty">No row ran in this run.</p>';
  let n = 0;
  return groups
    .map(([scenario, rows]) => `<h3>${esc(scenario)}</h3><div class="multiples">${rows.map((row) => replicaChart(`replicas-${n++}`, row, indexOf(row.strategy))).join('')}</div>`)
    .join('');
}

function replicaChart(id: string, row: MeasuredRow, index: number): string {
  const m = row.metrics;
  const names = { strategy: row.strategy, scenario: row.scenario };
  const caption = `<strong>${esc(row.strategy)}</strong> × ${esc(row.scenario)}${m.imbalance === null ? '' : ` · imbalance ${m.imbalance.toFixed(2)}`}`;
  // Zeros would claim the replicas served nothing; the truth is that hactl could not tell.
  if (m.replicasKnown === false) return figure('replicas', names, caption, `<p class="unknown">${esc(UNKNOWN_REPLICAS)}</p>`);
  const counts = Object.entries(m.requestsPerReplica);
  if (counts.length === 0) return figure('replicas', names, caption, '<p class="unknown">no replica answered</p>');
  return figure('replicas', names, caption, bars(id, row, counts, strategyColor(index)));
}

function bars(id: string, row: MeasuredRow, counts: [string, number][], color: string): string {
  const yTicks = niceTicks(Math.max(...counts.map(([, count]) => count)), 4);
  const y = linear(yTicks.at(-1)!, PLOT.bottom, PLOT.top);
  const slot = (PLOT.right - PLOT.left) / counts.length;
  const width = Math.min(48, slot * 0.7);
  const left = (i: number) => PLOT.left + i * slot + (slot - width) / 2;
  const rects = counts.map(([replica, count], i) => {
    const top = y(count);
    const label = `<text class="value" x="${num(left(i) + width / 2)}" y="${num(top - 4)}" text-anchor="middle">${count}</text>`;
    return `<rect class="bar" data-replica="${esc(replica)}" x="${num(left(i))}" y="${num(top)}" width="${num(width)}" height="${num(PLOT.bottom - top)}" fill="${color}"><title>${esc(`${replica}: ${count} requests`)}</title></rect>${label}`;
  });
  const xTicks = counts.map(([replica], i) => ({ x: left(i) + width / 2, label: shortName(replica) }));
  const title = `Requests per replica, ${row.strategy} × ${row.scenario}`;
  const desc = counts.map(([replica, count]) => `${replica}: ${count}`).join(', ');
  return `${svgOpen(id, PLOT, title, desc)}${yAxis(PLOT, yTicks, y, 'requests')}${xAxis(PLOT, xTicks, 'replica')}${meanLine(counts, y)}${rects.join('')}</svg>`;
}

/**
 * DESIGN.md's imbalance is the busiest replica over this line; `none` (no target in service) is no
 * replica. Drawn under the bars, whose count labels have a halo, so it strikes through neither.
 */
function meanLine(counts: readonly [string, number][], y: (value: number) => number): string {
  const replicas = counts.filter(([replica]) => replica !== 'none');
  if (replicas.length === 0) return '';
  const mean = replicas.reduce((sum, [, count]) => sum + count, 0) / replicas.length;
  const at = num(y(mean));
  return `<line class="mean" x1="${num(PLOT.left)}" x2="${num(PLOT.right)}" y1="${at}" y2="${at}"><title>mean per replica: ${esc(num(mean, 1))} requests</title></line>`;
}

/** The axis says "replica"; the bars need only the number. */
function shortName(replica: string): string {
  return replica.replace(/^replica-/, '');
}
