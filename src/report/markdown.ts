import { COLUMNS, findingRows, notRunLines, rowCells, settingsLine, storeLines, verdict } from './cells.js';
import type { Report } from './model.js';

/** GitHub-flavoured Markdown: the same cells as the terminal table, for docs and PR comments. */
export function renderMarkdown(report: Report): string {
  const lines = [`_${settingsLine(report)}_`, '', tableRow(COLUMNS), tableRow(COLUMNS.map(() => '---'))];
  for (const row of report.results) lines.push(tableRow(rowCells(row)));

  const findings = findingRows(report);
  if (findings.length > 0) {
    lines.push('', tableRow(['strategy', 'finding', 'result', 'evidence']), tableRow(['---', '---', '---', '---']));
    for (const { row, finding } of findings) lines.push(tableRow([row.strategy, finding.title, verdict(finding), finding.summary]));
  }
  const notes = [...storeLines(report).map((line) => `store ${line}`), ...notRunLines(report)];
  if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
  return `${lines.join('\n')}\n`;
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
}
