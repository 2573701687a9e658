import { COLUMNS, FINDING_COLUMNS, findingRows, notRunLines, rowCells, settingsLine, storeLines, verdict, warningLine, warningLines } from './cells.js';
import { latencyCharts } from './html-latency.js';
import { replicaCharts } from './html-replicas.js';
import { HTML_STYLE } from './html-style.js';
import { timelineCharts } from './html-timeline.js';
import { rowIsInvalid, type Report } from './model.js';
import { esc } from './svg.js';

/**
 * One self-contained HTML page: the summary table, the security findings and charts drawn as
 * inline SVG, with no script and nothing fetched when it is opened (the CSP says so to the browser
 * too). A pure function of the report, byte for byte, so a saved report always renders the same.
 */
export function renderHtml(report: Report): string {
  const title = `hactl report · run ${report.runId}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // A report carries strings from user input; even escaped, nothing in it may load or run.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${esc(title)}</title>`,
    `<style>${HTML_STYLE}</style>`,
    '</head>',
    '<body>',
    header(report),
    '<main>',
    section('summary', 'Summary', summary(report)),
    section('latency', 'Read latency', `<p class="lead">How long users' reads of their own session took, as a share of each strategy's answered reads; errors are counted apart.</p>${latencyCharts(report)}`),
    section('replicas', 'Requests per replica', `<p class="lead">Requests each replica answered; the dashed line is the mean per replica, and imbalance is the busiest replica over it.</p>${replicaCharts(report)}`),
    section('faults', 'Around the faults', `<p class="lead">Requests per time bucket by how they ended, with each fault marked where it happened.</p>${timelineCharts(report)}`),
    section('security', 'Security findings', findings(report)),
    '</main>',
    `<footer>${esc(`hactl ${report.tool.version} · report schema ${report.schemaVersion} · run ${report.runId}`)}</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function header(report: Report): string {
  const s = report.settings;
  const nav = [
    ['summary', 'Summary'],
    ['latency', 'Read latency'],
    ['replicas', 'Requests per replica'],
    ['faults', 'Around the faults'],
    ['security', 'Security findings'],
  ].map(([id, label]) => `<a href="#${id}">${label}</a>`);
  return (
    `<header><h1>Session strategies under failure</h1>` +
    `<p class="what">${esc(`${s.strategies.join(', ')} × ${s.scenarios.join(', ')}`)} · started ${esc(report.startedAt)}</p>` +
    `<p class="settings">${esc(settingsLine(report))}</p><nav>${nav.join('')}</nav></header>`
  );
}

function section(id: string, heading: string, body: string): string {
  return `<section id="${id}" aria-labelledby="${id}-heading"><h2 id="${id}-heading">${heading}</h2>${body}</section>`;
}

/** How each of the terminal table's columns is set: numbers right-aligned, short phrases kept on one line. */
const COLUMN_CLASS: Record<string, string> = {
  scenario: 'nowrap',
  'hit rate': 'num',
  'miss rate': 'num',
  errors: 'num',
  'session loss': 'nowrap',
  recovery: 'num',
  'login p50/p95/p99 ms': 'nowrap',
  'read p50/p95/p99 ms': 'nowrap',
  imbalance: 'num',
  figures: 'figures',
};

/**
 * The terminal table's cells, with rows that did not run or carry warnings marked, and the
 * reason or the warnings on hover.
 */
function summary(report: Report): string {
  const cls = (column: string) => (COLUMN_CLASS[column] ? ` class="${COLUMN_CLASS[column]}"` : '');
  const head = COLUMNS.map((column) => `<th scope="col"${cls(column)}>${esc(column)}</th>`).join('');
  const body = report.results.map((row) => {
    const warnings = (row.warnings ?? []).map((warning) => warningLine(row, warning));
    const cells = rowCells(row).map((cell, i) => {
      if (i === 0) return `<th scope="row">${esc(cell)}</th>`;
      if (i === 2 && row.status !== 'ok') return `<td class="status ${esc(row.status)}" title="${esc([row.reason ?? '', ...warnings].filter(Boolean).join('\n'))}">${esc(cell)}</td>`;
      if (i === 2 && warnings.length > 0) return `<td class="num status ${rowIsInvalid(row) ? 'invalid' : 'warned'}" title="${esc(warnings.join('\n'))}">${esc(cell)}</td>`;
      return `<td${cls(COLUMNS[i]!)}>${esc(cell)}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  const notes = [...storeLines(report).map((line) => `store ${line}`), ...notRunLines(report), ...warningLines(report)];
  const list = notes.length > 0 ? `<ul class="notes">${notes.map((note) => `<li>${esc(note)}</li>`).join('')}</ul>` : '';
  return `<div class="scroll"><table class="summary"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table></div>${list}`;
}

const VERDICT_CLASS = { pass: 'pass', FAIL: 'fail', info: 'info', 'n/a': 'na' } as const;

function findings(report: Report): string {
  const rows = findingRows(report);
  if (rows.length === 0) return '<p class="empty">No security scenario ran (cookie-swap and security make these checks).</p>';
  const body = rows.map(({ row, finding }) => {
    const result = verdict(finding);
    return `<tr><th scope="row">${esc(row.strategy)}</th><td>${esc(row.scenario)}</td><td>${esc(finding.title)}</td><td class="verdict ${VERDICT_CLASS[result]}">${esc(result)}</td><td>${esc(finding.summary)}</td></tr>`;
  });
  const head = FINDING_COLUMNS.map((h) => `<th scope="col">${h}</th>`).join('');
  const lead = '<p class="lead">pass and FAIL are checks; info is a fact expected on every strategy (a session id is a bearer token, so a stolen cookie works everywhere); n/a is a check that could not be made, with the reason as its evidence.</p>';
  return `${lead}<div class="scroll"><table class="findings"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}
