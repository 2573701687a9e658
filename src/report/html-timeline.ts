import { commandEvidence, detectedAt, type Fault } from '../driver/records.js';
import type { Timeline } from '../metrics/series.js';
import { byScenario, figure, measuredRows, type MeasuredRow } from './html-figure.js';
import { faultRowLines } from './cells.js';
import { isExternalBalancer, type Report } from './model.js';
import { esc, legend, linear, niceTicks, num, seconds, svgOpen, xAxis, yAxis, type Plot } from './svg.js';

const PLOT: Plot = { width: 960, height: 270, left: 56, right: 944, top: 46, bottom: 226 };

/** Stacked bottom to top in this order; errors sit right above misses, both above the hits they eat into. */
export const OUTCOMES = [
  { key: 'hits', label: 'hits', color: '#0072B2' },
  { key: 'misses', label: 'misses', color: '#E69F00' },
  { key: 'errors', label: 'errors (no answer or 5xx)', color: '#D55E00' },
  { key: 'other', label: 'other answers (logins, writes)', color: '#BBBBBB' },
] as const;

type FaultedRow = MeasuredRow & { metrics: { timeline: Timeline } };

/** One stacked chart per strategy × scenario that broke something, grouped by scenario. */
export function timelineCharts(report: Report): string {
  const rows = measuredRows(report).filter((row): row is FaultedRow => row.metrics.faults.length > 0 && row.metrics.timeline !== null);
  if (rows.length === 0) return '<p class="empty">No scenario in this run broke anything, so there is no fault to show.</p>';
  let n = 0;
  const charts = byScenario(report, rows).map(
    ([scenario, list]) => `<h3>${esc(scenario)}</h3><div class="stack">${list.map((row) => timelineChart(`timeline-${n++}`, row) + faultNotes(row)).join('')}</div>`,
  );
  return timelineLegend(isExternalBalancer(report.settings.balancer)) + charts.join('');
}

/**
 * Under a chart, what hactl saw of the faults it did not do itself: whether each took effect, and
 * the user's commands that did it (the full command line on hover).
 */
function faultNotes(row: FaultedRow): string {
  const items = row.metrics.faults.flatMap((fault) => {
    const lines = faultRowLines(row, fault);
    const commands = commandEvidence(fault).commands ?? [];
    // faultRowLines gives the observation first (when there is one), then one line per command.
    const offset = lines.length - commands.length;
    return lines.map((line, i) => {
      const command = i >= offset ? commands[i - offset] : undefined;
      const cls = command ? 'fault-command' : commandEvidence(fault).observed === false ? 'fault-observation not-observed' : 'fault-observation';
      return `<li class="${cls}"${command ? ` title="${esc(command.command)}"` : ''}>${esc(line)}</li>`;
    });
  });
  return items.length > 0 ? `<ul class="notes fault-notes" data-strategy="${esc(row.strategy)}" data-scenario="${esc(row.scenario)}">${items.join('')}</ul>` : '';
}

function timelineChart(id: string, row: FaultedRow): string {
  const { timeline, faults } = row.metrics;
  const steps = failoverSteps(row);
  const lastFault = Math.max(...faults.map((f) => Math.max(f.at, f.endAt ?? 0, detectedAt(f) ?? 0)), ...steps.map((step) => step.at));
  const xTicks = niceTicks(Math.max(timeline.hits.length * timeline.bucketMs, lastFault) / 1000, 8);
  const domainMs = xTicks.at(-1)! * 1000;
  const x = linear(domainMs, PLOT.left, PLOT.right);
  const totals = timeline.hits.map((_, i) => OUTCOMES.reduce((sum, o) => sum + (timeline[o.key][i] ?? 0), 0));
  const yTicks = niceTicks(Math.max(...totals), 4);
  const y = linear(yTicks.at(-1)!, PLOT.bottom, PLOT.top);

  const svg =
    svgOpen(id, PLOT, `Requests per ${timeline.bucketMs} ms around the faults, ${row.strategy} × ${row.scenario}`, describe(row)) +
    faults.map((fault) => faultWindow(fault, x)).join('') +
    yAxis(PLOT, yTicks, y, `requests per ${timeline.bucketMs} ms`) +
    xAxis(PLOT, xTicks.map((t) => ({ x: x(t * 1000), label: num(t) })), 'scenario time (s), by when each request completed') +
    stacks(timeline, x, y) +
    faultMarks(faults, x) +
    failoverMarks(steps, x) +
    '</svg>';
  const caption = `<strong>${esc(row.strategy)}</strong> × ${esc(row.scenario)}: ${faults.length} fault${faults.length === 1 ? '' : 's'}`;
  return figure('timeline', { strategy: row.strategy, scenario: row.scenario }, caption, svg);
}

function stacks(timeline: Timeline, x: (ms: number) => number, y: (count: number) => number): string {
  const out: string[] = [];
  for (let i = 0; i < timeline.hits.length; i++) {
    const x0 = x(i * timeline.bucketMs);
    const width = x((i + 1) * timeline.bucketMs) - x0;
    // A hairline between neighbouring bars keeps them apart without eating a thin bar whole.
    const gap = width > 4 ? Math.min(1, width * 0.1) : 0;
    const span = `${seconds(i * timeline.bucketMs)}–${seconds((i + 1) * timeline.bucketMs)} s`;
    let base = 0;
    for (const outcome of OUTCOMES) {
      const count = timeline[outcome.key][i] ?? 0;
      if (count === 0) continue;
      const top = y(base + count);
      out.push(
        `<rect class="bar ${outcome.key}" x="${num(x0 + gap / 2)}" y="${num(top)}" width="${num(width - gap)}" height="${num(y(base) - top)}" fill="${outcome.color}"><title>${esc(`${span}: ${count} ${outcome.key}`)}</title></rect>`,
      );
      base += count;
    }
  }
  return out.join('');
}

/** Shaded from the fault until it was undone or, failing that, until the balancer took the target out. */
function faultWindow(fault: Fault, x: (ms: number) => number): string {
  const end = fault.endAt ?? detectedAt(fault);
  if (end === undefined || end <= fault.at) return '';
  const until = fault.endAt !== undefined ? `undone at ${seconds(fault.endAt)} s` : `${byCommand(fault) ? 'stopped appearing in answers' : 'taken out of rotation'} at ${seconds(end)} s`;
  return `<rect class="fault-window" x="${num(x(fault.at))}" y="${num(PLOT.top)}" width="${num(x(end) - x(fault.at))}" height="${num(PLOT.bottom - PLOT.top)}"><title>${esc(`${fault.kind} ${fault.target}: ${until}`)}</title></rect>`;
}

/** A line at each fault, labelled with its kind and target, and a dashed one where it was detected. */
function faultMarks(faults: readonly Fault[], x: (ms: number) => number): string {
  const place = labelPlacer();
  return [...faults]
    .sort((a, b) => a.at - b.at)
    .map((fault) => {
      const at = x(fault.at);
      const label = `${fault.kind} ${fault.target}`;
      const text = place(at, label);
      return (
        `<g class="fault" data-kind="${esc(fault.kind)}" data-target="${esc(fault.target)}">` +
        `<line class="fault-marker" data-at="${num(fault.at)}" x1="${num(at)}" x2="${num(at)}" y1="${num(text.y - 8)}" y2="${num(PLOT.bottom)}"><title>${esc(faultText(fault))}</title></line>` +
        `<text class="fault-label" x="${num(text.x)}" y="${num(text.y)}" text-anchor="${text.anchor}">${esc(label)}</text>` +
        detection(fault, x) +
        '</g>'
      );
    })
    .join('');
}

/** The steps of a store failover that move the primary, as the row's figures recorded them. */
function failoverSteps(row: FaultedRow): Array<{ at: number; kind: string; node: string; detail?: string }> {
  return (row.metrics.storeFailover?.failover?.events ?? []).filter((event) => FAILOVER_STEPS_SHOWN.has(event.kind));
}

/** Promotion and the endpoint's move: the failover's own moments beside the kill (a fault mark). */
const FAILOVER_STEPS_SHOWN = new Set(['primary-down', 'promoted', 'endpoint-moved']);

/** A dotted line at each failover step, its words on hover. */
function failoverMarks(steps: ReturnType<typeof failoverSteps>, x: (ms: number) => number): string {
  return steps
    .map((step) => {
      const at = num(x(step.at));
      const words = `${step.kind} ${step.node}${step.detail ? ` (${step.detail})` : ''} at ${seconds(step.at)} s`;
      return `<line class="failover-step" data-kind="${esc(step.kind)}" data-node="${esc(step.node)}" data-at="${num(step.at)}" x1="${at}" x2="${at}" y1="${num(PLOT.top)}" y2="${num(PLOT.bottom)}"><title>${esc(words)}</title></line>`;
    })
    .join('');
}

/**
 * Labels go on two rows above the plot, left to right: each on the first row where it clears the
 * previous label, so faults close together stay readable; one that would run off the right edge
 * is set to the left of its line instead.
 */
function labelPlacer(): (at: number, label: string) => { x: number; y: number; anchor: 'start' | 'end' } {
  const rowEnds = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  return (at, label) => {
    const width = label.length * 6.2; // about 11px system-ui per character
    const leftward = at + 3 + width > PLOT.width - 4;
    const [start, end] = leftward ? [at - 3 - width, at - 3] : [at + 3, at + 3 + width];
    const row = rowEnds[0]! < start - 6 ? 0 : rowEnds[1]! < start - 6 ? 1 : rowEnds[0]! <= rowEnds[1]! ? 0 : 1;
    rowEnds[row] = end;
    return { x: leftward ? at - 3 : at + 3, y: PLOT.top - 26 + row * 14, anchor: leftward ? 'end' : 'start' };
  };
}

function faultText(fault: Fault): string {
  const detectedMs = detectedAt(fault);
  const detected = detectedMs !== undefined ? `, detected at ${seconds(detectedMs)} s (after ${num(detectedMs - fault.at, 0)} ms)` : '';
  const undone = fault.endAt !== undefined ? `, undone at ${seconds(fault.endAt)} s` : '';
  return `${fault.kind} ${fault.target} at ${seconds(fault.at)} s${commandEvidence(fault).observed === false ? ' (not observed to take effect)' : ''}${detected}${undone}`;
}

/** A fault made by the user's command (--runtime external): hactl saw it leave the answers, not a balancer's health check. */
function byCommand(fault: Fault): boolean {
  const evidence = commandEvidence(fault);
  return evidence.commands !== undefined || evidence.observed !== undefined;
}

function detection(fault: Fault, x: (ms: number) => number): string {
  const detected = detectedAt(fault);
  if (detected === undefined) return '';
  const at = num(x(detected));
  return `<line class="fault-detected" x1="${at}" x2="${at}" y1="${num(PLOT.top)}" y2="${num(PLOT.bottom)}"><title>${esc(`${fault.target} ${byCommand(fault) ? 'stopped appearing in answers' : 'taken out of rotation'} at ${seconds(detected)} s`)}</title></line>`;
}

function describe(row: FaultedRow): string {
  const { timeline, faults } = row.metrics;
  const sum = (list: readonly number[]) => list.reduce((total, count) => total + count, 0);
  const counts = `${sum(timeline.hits)} hits, ${sum(timeline.misses)} misses, ${sum(timeline.errors)} errors in ${timeline.hits.length} buckets of ${timeline.bucketMs} ms`;
  return `${counts}. Faults: ${faults.map(faultText).join('; ')}.`;
}

/** One legend for all timelines: they share their colours and marks. */
function timelineLegend(external: boolean): string {
  return legend([
    ...OUTCOMES.map((o) => ({ label: o.label, swatch: `<rect x="1" y="1" width="20" height="10" fill="${o.color}"/>` })),
    { label: 'fault', swatch: '<line class="fault-marker" x1="11" x2="11" y1="0" y2="12"/>' },
    { label: external ? 'the replica stopped appearing in answers' : 'balancer took the target out', swatch: '<line class="fault-detected" x1="11" x2="11" y1="0" y2="12"/>' },
    { label: 'fault in effect (until undone, else until detected)', swatch: '<rect class="fault-window" x="1" y="1" width="20" height="10"/>' },
    { label: 'store failover: primary down, replica promoted, endpoint moved', swatch: '<line class="failover-step" x1="11" x2="11" y1="0" y2="12"/>' },
  ]);
}
