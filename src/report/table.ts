import { Chalk } from 'chalk';
import Table from 'cli-table3';
import { COLUMNS, FINDING_COLUMNS, faultLines, findingCells, findingRows, notRunLines, rowCells, settingsLine, storeLines, warningLine } from './cells.js';
import { foldTable, wrapText, type FoldColumns } from './fold.js';
import { rowIsInvalid, type Report } from './model.js';
import type { RenderOptions } from './renderers.js';

/** Both tables' rows are named by strategy and scenario; their prose columns may wrap. */
const RESULT_FOLD: FoldColumns = { keys: 2, wrap: new Set([COLUMNS.indexOf('figures')]) };
const FINDING_FOLD: FoldColumns = { keys: 2, wrap: new Set([FINDING_COLUMNS.indexOf('finding'), FINDING_COLUMNS.indexOf('evidence')]) };

/**
 * The terminal table: cli-table3, with colour only when asked (a TTY). With `options.width` (a
 * terminal narrower than the table) the tables fold and the lines under them wrap, so that no
 * line is wider than the terminal; without it every column stays on one line, for a file or a pipe.
 */
export function renderTable(report: Report, options: RenderOptions): string {
  const chalk = new Chalk({ level: options.color ? 1 : 0 });
  const lines = (text: string) => (options.width === undefined ? [text] : wrapText(text, options.width));
  const out = lines(settingsLine(report)).map((line) => chalk.dim(line));

  const rows = report.results.map((row) => {
    const cells = rowCells(row);
    if (row.status === 'error' || rowIsInvalid(row)) cells[2] = chalk.red(cells[2]!);
    else if (row.status !== 'ok' || (row.warnings ?? []).length > 0) cells[2] = chalk.yellow(cells[2]!);
    return cells;
  });
  out.push(...foldTable(COLUMNS, rows, RESULT_FOLD, options.width).map((table) => draw(table.head, table.rows, chalk)));

  const findings = findingRows(report).map(({ row, finding }) => {
    const cells = findingCells(row, finding);
    const result = cells[3]!;
    cells[3] = result === 'pass' ? chalk.green(result) : result === 'FAIL' ? chalk.red(result) : chalk.cyan(result);
    return cells;
  });
  if (findings.length > 0) out.push(...foldTable(FINDING_COLUMNS, findings, FINDING_FOLD, options.width).map((table) => draw(table.head, table.rows, chalk)));

  const stores = storeLines(report);
  if (stores.length > 0) out.push(...lines(`stores: ${stores.join('; ')}`).map((line) => chalk.dim(line)));
  for (const line of faultLines(report)) out.push(...lines(line).map((part) => chalk.dim(part)));
  for (const line of notRunLines(report)) out.push(...lines(line).map((part) => chalk.yellow(part)));
  for (const row of report.results) {
    for (const warning of row.warnings ?? []) out.push(...lines(warningLine(row, warning)).map((part) => (warning.invalid ? chalk.red : chalk.yellow)(part)));
  }
  return `${out.join('\n')}\n`;
}

function draw(head: readonly string[], rows: readonly string[][], chalk: InstanceType<typeof Chalk>): string {
  const table = new Table({ head: head.map((column) => chalk.bold(column)), style: { head: [], border: [], compact: true } });
  table.push(...rows);
  return table.toString();
}
