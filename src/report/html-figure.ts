import type { Report, ResultRow } from './model.js';
import { esc, SERIES_COLORS } from './svg.js';

/** What the HTML report's charts are drawn from: rows that ran, with their metrics. */
export type MeasuredRow = ResultRow & { metrics: NonNullable<ResultRow['metrics']> };

export function measuredRows(report: Report): MeasuredRow[] {
  return report.results.filter((row): row is MeasuredRow => row.status === 'ok' && row.metrics !== undefined);
}

/** A strategy keeps one colour and one marker shape on every chart: its place in the run's list. */
export function strategyIndex(report: Report): (strategy: string) => number {
  const order = [...new Set([...report.settings.strategies, ...report.results.map((row) => row.strategy)])];
  return (strategy) => order.indexOf(strategy);
}

export function strategyColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length]!;
}

/** Rows grouped by scenario, scenarios in the run's order, rows in report order within each. */
export function byScenario<T extends ResultRow>(report: Report, rows: readonly T[]): [string, T[]][] {
  const order = [...new Set([...report.settings.scenarios, ...rows.map((row) => row.scenario)])];
  return order.map((scenario) => [scenario, rows.filter((row) => row.scenario === scenario)] as [string, T[]]).filter(([, list]) => list.length > 0);
}

/**
 * A chart with its caption. The data-* attributes name what the chart shows, so a reader's tools
 * (and the browser test) can find a given strategy × scenario without parsing captions.
 */
export function figure(kind: string, names: { strategy?: string; scenario: string }, captionHtml: string, body: string): string {
  const attrs = [`class="chart ${kind}"`, `data-chart="${kind}"`, `data-scenario="${esc(names.scenario)}"`];
  if (names.strategy !== undefined) attrs.push(`data-strategy="${esc(names.strategy)}"`);
  return `<figure ${attrs.join(' ')}><figcaption>${captionHtml}</figcaption>${body}</figure>`;
}

/** "a, b and c" */
export function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
