import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COLUMNS, findingRows, rowCells, verdict } from './cells.js';
import { renderHtml } from './html.js';
import type { Report } from './model.js';
import { esc, niceTicks, num } from './svg.js';
import { detectedAt } from '../driver/records.js';

/** A real run (`hactl run --strategy none,sticky,redis --scenario login-read,kill-node,store-outage,cookie-swap --users 10`). */
const FIXTURE = new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url);
const load = (): Report => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Report;

/** The figures of one kind, as HTML snippets, in page order. */
function figures(html: string, kind: string): string[] {
  return [...html.matchAll(/<figure [^>]*data-chart="([^"]+)"[^>]*>[\s\S]*?<\/figure>/g)].filter((m) => m[1] === kind).map((m) => m[0]);
}

function count(html: string, pattern: RegExp): number {
  return [...html.matchAll(pattern)].length;
}

/** Text of the cells of each row of a table, tags stripped and entities decoded back. */
function tableRows(html: string, tableClass: string): string[][] {
  const table = html.match(new RegExp(`<table class="${tableClass}">[\\s\\S]*?</table>`))![0];
  const body = table.slice(table.indexOf('<tbody>'));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((tr) => [...tr[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => decode(cell[1]!)));
}

function decode(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>'`;

describe('renderHtml', () => {
  it('renders the same report to the same bytes, also after a JSON round trip', () => {
    const report = load();
    const html = renderHtml(report);
    expect(renderHtml(report)).toBe(html);
    expect(renderHtml(JSON.parse(JSON.stringify(report)) as Report)).toBe(html);
    expect(html).not.toMatch(/NaN|Infinity|undefined|\d\.\d*e[-+]\d/);
  });

  it('is self-contained: nothing to fetch, no script', () => {
    const html = renderHtml(load());
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:|\/\/)/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('has the terminal table\'s cells, row for row, and every security finding', () => {
    const report = load();
    const html = renderHtml(report);
    expect(tableRows(html, 'summary')).toEqual(report.results.map((row) => rowCells(row)));
    for (const column of COLUMNS) expect(html).toContain(`>${esc(column)}</th>`);
    const expected = findingRows(report).map(({ row, finding }) => [row.strategy, row.scenario, finding.title, verdict(finding), finding.summary]);
    expect(expected.length).toBeGreaterThan(0);
    expect(tableRows(html, 'findings')).toEqual(expected);
    expect(html).toContain('none × store-outage: skipped: store-outage breaks the session store');
  });

  it('draws a latency chart per scenario with one series per strategy that had reads', () => {
    const report = load();
    const charts = figures(renderHtml(report), 'latency');
    expect(charts.map((chart) => chart.match(/data-scenario="([^"]+)"/)![1])).toEqual(['login-read', 'kill-node', 'store-outage', 'cookie-swap']);
    for (const chart of charts) {
      const scenario = chart.match(/data-scenario="([^"]+)"/)![1];
      const strategies = report.results.filter((row) => row.scenario === scenario && row.metrics?.readLatencyDistribution).map((row) => row.strategy);
      expect([...chart.matchAll(/<g class="series" data-series="([^"]+)"/g)].map((m) => m[1])).toEqual(strategies);
      expect(count(chart, /<li>/g)).toBe(strategies.length);
      expect(chart).toContain('read latency (ms, log scale)');
      expect(chart).toContain('share of reads (%)');
    }
  });

  it('draws a bar per replica for every row that ran', () => {
    const report = load();
    const charts = figures(renderHtml(report), 'replicas');
    const ran = report.results.filter((row) => row.status === 'ok');
    expect(charts).toHaveLength(ran.length);
    for (const row of ran) {
      const chart = charts.find((c) => c.includes(`data-scenario="${row.scenario}" data-strategy="${row.strategy}"`))!;
      const replicas = Object.keys(row.metrics!.requestsPerReplica);
      expect([...chart.matchAll(/<rect class="bar" data-replica="([^"]+)"/g)].map((m) => m[1])).toEqual(replicas);
      for (const [replica, requests] of Object.entries(row.metrics!.requestsPerReplica)) expect(chart).toContain(`<title>${replica}: ${requests} requests</title>`);
    }
  });

  it('says the per-replica figures are unknown rather than drawing zeros when answers carried no replica tag', () => {
    const report = load();
    for (const row of report.results) if (row.metrics) Object.assign(row.metrics, { replicasKnown: false, requestsPerReplica: {}, imbalance: null });
    const charts = figures(renderHtml(report), 'replicas');
    expect(charts.length).toBeGreaterThan(0);
    for (const chart of charts) {
      expect(chart).toContain('unknown (no answer named its replica: the app profile&#39;s replica: key says where answers do)');
      expect(chart).not.toContain('<rect class="bar"');
    }
  });

  it('draws a timeline per row with faults, each fault marked and labelled with its kind and target', () => {
    const report = load();
    const charts = figures(renderHtml(report), 'timeline');
    const faulted = report.results.filter((row) => (row.metrics?.faults.length ?? 0) > 0);
    expect(faulted.length).toBe(4);
    expect(charts).toHaveLength(faulted.length);
    for (const [i, row] of faulted.entries()) {
      const chart = charts[i]!;
      const { faults, timeline } = row.metrics!;
      expect(chart).toContain(`data-scenario="${row.scenario}" data-strategy="${row.strategy}"`);
      expect([...chart.matchAll(/class="fault-marker" data-at="([^"]+)"/g)].map((m) => Number(m[1]))).toEqual(faults.map((f) => Number(num(f.at))));
      for (const fault of faults) expect(chart).toContain(`>${fault.kind} ${fault.target}</text>`);
      expect(count(chart, /class="fault-detected"/g)).toBe(faults.filter((f) => detectedAt(f) !== undefined).length);
      expect(count(chart, /class="fault-window"/g)).toBe(faults.filter((f) => (f.endAt ?? detectedAt(f)) !== undefined).length);
      for (const outcome of ['hits', 'misses', 'errors', 'other'] as const) {
        expect(count(chart, new RegExp(`<rect class="bar ${outcome}"`, 'g'))).toBe(timeline![outcome].filter((n) => n > 0).length);
      }
    }
  });

  it('marks a store failover\'s steps (primary down, promotion, endpoint moved) on its row\'s timeline, and no other step', () => {
    const report = load();
    const row = report.results.find((r) => (r.metrics?.faults.length ?? 0) > 0)!;
    const at = row.metrics!.faults[0]!.at;
    const events = [
      { at: at + 600, kind: 'primary-down', node: 'node-1', detail: '3 failed checks 200 ms apart' },
      { at: at + 603, kind: 'promoted', node: 'node-2', detail: 'replaces node-1' },
      { at: at + 610, kind: 'endpoint-moved', node: 'node-2' },
      { at: at + 900, kind: 'rejoined-as-replica', node: 'node-1', detail: 'to node-2' },
    ];
    row.metrics!.storeFailover = {
      node: 'node-1', acknowledged: 10, lost: 0, lostAt: [], exact: true, sessions: 2, sessionsLost: 0, sessionsUnread: 0, countersUnread: 0, indeterminate: 0,
      unavailableMs: 700, errorsWhileUnavailable: 3, replicationDelayMs: null, syncRequests: null, writesPerSecond: 100,
      failover: { decidedBy: 'hactl', mode: 'async', profile: 'fast', timings: 'fast', events, lagBeforeKill: [], mostPrimariesAtOnce: 1 },
    };
    const chart = figures(renderHtml(report), 'timeline').find((c) => c.includes(`data-scenario="${row.scenario}" data-strategy="${row.strategy}"`))!;
    expect([...chart.matchAll(/class="failover-step" data-kind="([^"]+)" data-node="([^"]+)" data-at="([^"]+)"/g)].map((m) => [m[1], m[2], Number(m[3])])).toEqual(
      events.slice(0, 3).map((event) => [event.kind, event.node, Number(num(event.at))]),
    );
    expect(chart).toContain('<title>promoted node-2 (replaces node-1) at');
  });

  it('sets the labels of faults close together on different rows, and one at the right edge left of its line', () => {
    const report = load();
    const row = report.results.find((r) => r.scenario === 'store-outage' && r.status === 'ok')!;
    const [a, b, c] = row.metrics!.faults;
    Object.assign(a!, { at: 700 });
    Object.assign(b!, { at: 760 });
    Object.assign(c!, { at: 9_990, endAt: undefined });
    const chart = figures(renderHtml(report), 'timeline').find((f) => f.includes('data-scenario="store-outage"'))!;
    const labels = [...chart.matchAll(/<text class="fault-label" x="[^"]+" y="([^"]+)" text-anchor="(\w+)">/g)].map((m) => ({ y: m[1], anchor: m[2] }));
    expect(labels).toHaveLength(3);
    expect(labels[0]!.y).not.toBe(labels[1]!.y);
    expect(labels.map((l) => l.anchor)).toEqual(['start', 'start', 'end']);
  });

  it("marks a row's hit rate when it has warnings, with the warnings on hover and among the notes", () => {
    const report = load();
    const [first, second] = report.results;
    first!.warnings = [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403: "<b>no token</b>")' }];
    second!.warnings = [{ id: 'fail-open', message: 'every request went to one replica', invalid: true }];
    const html = renderHtml(report);
    // Still the terminal's cells, marked the same way.
    expect(tableRows(html, 'summary')).toEqual(report.results.map((row) => rowCells(row)));
    expect(tableRows(html, 'summary')[0]![2]).toMatch(/ ⚠$/);
    const warned = `${first!.strategy} × ${first!.scenario}: warning: 3/30 logins failed (first: answered 403: "<b>no token</b>")`;
    const invalid = `${second!.strategy} × ${second!.scenario}: invalid: every request went to one replica`;
    expect(html).toContain(`<td class="num status warned" title="${esc(warned)}">`);
    expect(html).toContain(`<td class="num status invalid" title="${esc(invalid)}">`);
    expect(html).toContain(`<li>${esc(warned)}</li><li>${esc(invalid)}</li>`);
    expect(html).not.toContain('<b>no token</b>');
  });

  it('escapes every string that came from the report', () => {
    const report = load();
    report.runId = HOSTILE;
    report.settings.strategies = [HOSTILE];
    const row = report.results.find((r) => r.scenario === 'kill-node')!;
    row.strategy = HOSTILE;
    row.scenario = HOSTILE;
    row.metrics!.requestsPerReplica = { [HOSTILE]: 3 };
    row.metrics!.faults[0]!.target = HOSTILE;
    // A report read from a file may carry any kind: its text is escaped all the same.
    (row.metrics!.faults[0] as { kind: string }).kind = HOSTILE;
    const skipped = report.results.find((r) => r.status === 'skipped')!;
    skipped.reason = HOSTILE;
    skipped.fix = HOSTILE;
    report.results.find((r) => r.findings?.length)!.findings![0]!.summary = HOSTILE;
    const html = renderHtml(report);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(esc(HOSTILE));
    expect(count(html, /&lt;script&gt;alert\(1\)/g)).toBeGreaterThan(8);
  });

  it('renders a run that measured nothing, saying so instead of drawing empty charts', () => {
    const report = load();
    report.results = report.results.map((row) => ({ strategy: row.strategy, scenario: row.scenario, status: 'skipped', reason: 'redis-server was not found on PATH' }));
    const html = renderHtml(report);
    expect(html).not.toContain('<figure');
    expect(html).toContain('No read was answered in this run');
    expect(html).toContain('No scenario in this run broke anything');
    expect(html).toContain('No security scenario ran');
  });
});

describe('chart primitives', () => {
  it('round numbers the same way every time, without -0', () => {
    expect([num(1 / 3), num(-0.0001), num(2.5), num(1234.5678, 1), num(0.1 + 0.2)]).toEqual(['0.33', '0', '2.5', '1234.6', '0.3']);
  });

  it('picks round axis ticks that cover the data', () => {
    expect(niceTicks(53)).toEqual([0, 20, 40, 60]);
    expect(niceTicks(53, 10)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(niceTicks(0.83, 8)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.8, 8)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(niceTicks(2114, 4)).toEqual([0, 1000, 2000, 3000]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});
