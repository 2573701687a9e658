import { comparisonCells, comparisonHeader, hasComparedScenarios, summarize, tradeOffLine } from './comparison.js';
import { COLUMNS, FINDING_COLUMNS, faultLines, findingCells, findingRows, notRunLines, rowCells, settingsLine, storeLines, warningLines } from './cells.js';
import type { Report } from './model.js';
import { pricingNote } from './pricing.js';
import type { RenderOptions } from './renderers.js';

/**
 * GitHub-flavoured Markdown for docs and PR comments: the comparison of strategies first, then
 * the full per-scenario table (the same cells as the terminal's), findings and notes. Pure: one
 * report and one set of options give the same bytes every time.
 */
export function renderMarkdown(report: Report, options: Partial<RenderOptions> = {}): string {
  const sections = [
    [`_${settingsLine(report)}_`],
    comparisonSection(report, options),
    resultsSection(report),
    findingsSection(report),
    faultsSection(report),
    notesSection(report),
  ].filter((section) => section.length > 0);
  return `${sections.map((section) => section.join('\n')).join('\n\n')}\n`;
}

/** Omitted when the run measured none of its figures and there is no cost to show. */
function comparisonSection(report: Report, options: Partial<RenderOptions>): string[] {
  if (!hasComparedScenarios(report) && !options.pricing) return [];
  const comparison = summarize(report, options.pricing);
  const header = comparisonHeader(comparison);
  const lines = ['### Comparison', '', tableRow(header), tableRow(header.map(() => '---'))];
  for (const summary of comparison.strategies) lines.push(tableRow(comparisonCells(summary)));
  if (options.pricing) lines.push('', pricingNote(options.pricing, comparison.strategies.map((summary) => summary.name), report.settings.replicas));
  lines.push('', ...comparison.strategies.map((summary) => `- ${tradeOffLine(summary)}`));
  return lines;
}

function resultsSection(report: Report): string[] {
  return ['### Results by scenario', '', tableRow(COLUMNS), tableRow(COLUMNS.map(() => '---')), ...report.results.map((row) => tableRow(rowCells(row)))];
}

function findingsSection(report: Report): string[] {
  const findings = findingRows(report);
  if (findings.length === 0) return [];
  return [
    '### Findings',
    '',
    tableRow(FINDING_COLUMNS),
    tableRow(FINDING_COLUMNS.map(() => '---')),
    ...findings.map(({ row, finding }) => tableRow(findingCells(row, finding))),
  ];
}

/** The faults hactl did not do itself: whether each was seen to happen, and the user's commands that did it. */
function faultsSection(report: Report): string[] {
  const lines = faultLines(report);
  if (lines.length === 0) return [];
  return ['### Faults', '', ...lines.map((line) => `- ${line}`)];
}

function notesSection(report: Report): string[] {
  const notes = [...storeLines(report).map((line) => `store ${line}`), ...notRunLines(report), ...warningLines(report)];
  if (notes.length === 0) return [];
  return ['### Notes', '', ...notes.map((note) => `- ${note}`)];
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
}
