import { Chalk } from 'chalk';
import Table from 'cli-table3';
import { COLUMNS, faultLines, findingRows, notRunLines, rowCells, settingsLine, storeLines, verdict, warningLine } from './cells.js';
import { rowIsInvalid, type Report } from './model.js';
import type { RenderOptions } from './renderers.js';

/** The terminal table: cli-table3, with colour only when asked (a TTY). */
export function renderTable(report: Report, options: RenderOptions): string {
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const table = new Table({
    head: COLUMNS.map((column) => chalk.bold(column)),
    style: { head: [], border: [], compact: true },
  });
  for (const row of report.results) {
    const cells = rowCells(row);
    if (row.status === 'error' || rowIsInvalid(row)) cells[2] = chalk.red(cells[2]!);
    else if (row.status !== 'ok' || (row.warnings ?? []).length > 0) cells[2] = chalk.yellow(cells[2]!);
    table.push(cells);
  }
  const out = [chalk.dim(settingsLine(report)), table.toString()];

  const findings = findingRows(report);
  if (findings.length > 0) {
    const findingTable = new Table({ head: ['strategy', 'finding', 'result', 'evidence'].map((h) => chalk.bold(h)), style: { head: [], border: [], compact: true } });
    for (const { row, finding } of findings) {
      const result = verdict(finding);
      const colored = result === 'pass' ? chalk.green(result) : result === 'FAIL' ? chalk.red(result) : chalk.cyan(result);
      findingTable.push([row.strategy, finding.title, colored, finding.summary]);
    }
    out.push(findingTable.toString());
  }
  const stores = storeLines(report);
  if (stores.length > 0) out.push(chalk.dim(`stores: ${stores.join('; ')}`));
  for (const line of faultLines(report)) out.push(chalk.dim(line));
  for (const line of notRunLines(report)) out.push(chalk.yellow(line));
  for (const row of report.results) for (const warning of row.warnings ?? []) out.push((warning.invalid ? chalk.red : chalk.yellow)(warningLine(row, warning)));
  return `${out.join('\n')}\n`;
}
