import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { displayWidth, foldTable, tableLineWidth, wrapText } from './fold.js';
import { loadReport } from './load.js';
import type { Report } from './model.js';
import { renderTable } from './table.js';
import { terminalWidth } from './terminal-width.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url));

const widest = (text: string) => Math.max(...text.split('\n').map(displayWidth));

describe('wrapText', () => {
  it('breaks at spaces, and breaks a word longer than a line where the line ends, losing nothing', () => {
    expect(wrapText('a forged session id reads nothing', 12)).toEqual(['a forged', 'session id', 'reads', 'nothing']);
    const url = 'https://example.com/a/very/long/path';
    const lines = wrapText(`see ${url} now`, 10);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(10);
    expect(lines.join('').replace(/ /g, '')).toBe(`see${url}now`);
    expect(wrapText('short', 10)).toEqual(['short']);
  });
});

describe('foldTable', () => {
  const head = ['strategy', 'scenario', 'a', 'b', 'prose'];
  const rows = [
    ['redis', 'kill-node', 'x'.repeat(20), 'y'.repeat(20), 'word '.repeat(30).trim()],
    ['none', 'login-read', '1', '2', ''],
  ];
  const columns = { keys: 2, wrap: new Set([4]) };

  it('leaves a table that fits, and any table without a width (a file or a pipe), as it is', () => {
    expect(foldTable(head, rows, columns, undefined)).toEqual([{ head, rows }]);
    expect(foldTable(head, rows, columns, 500)).toEqual([{ head, rows }]);
  });

  it('wraps the prose column first, when that is enough', () => {
    const [table, ...more] = foldTable(head, rows, columns, 100);
    expect(more).toEqual([]);
    expect(table!.head).toEqual(head);
    expect(table!.rows[0]![4]).toContain('\n');
    expect(tableLineWidth(table!.head.map((_, i) => Math.max(...[table!.head, ...table!.rows].map((row) => displayWidth(row[i]!)))))).toBeLessThanOrEqual(100);
  });

  it('then splits the columns over stacked tables, each repeating strategy and scenario', () => {
    const tables = foldTable(head, rows, columns, 60);
    expect(tables.length).toBeGreaterThan(1);
    for (const table of tables) {
      expect(table.head.slice(0, 2)).toEqual(['strategy', 'scenario']);
      expect(table.rows.map((row) => row.slice(0, 2))).toEqual([['redis', 'kill-node'], ['none', 'login-read']]);
    }
    // Every column shows up once, in order.
    expect(tables.flatMap((table) => table.head.slice(2))).toEqual(['a', 'b', 'prose']);
  });
});

describe('renderTable at a terminal width', () => {
  let report: Report;
  beforeAll(async () => {
    report = await loadReport(FIXTURE);
  });

  it('is wider than 100 columns unfolded: every column on one line, as a file or a pipe gets it', () => {
    const text = renderTable(report, { color: false });
    expect(widest(text)).toBeGreaterThan(200);
    expect(text).toContain('│ strategy │ scenario     │ hit rate │ miss rate │ errors │ session loss │ recovery │ login p50/p95/p99 ms');
  });

  it.each([100, 80, 120])('at %i columns no line is wider than the terminal, colour or not, and no figure is lost', (width) => {
    for (const color of [false, true]) {
      const text = renderTable(report, { color, width });
      expect(widest(text)).toBeLessThanOrEqual(width);
    }
    const folded = renderTable(report, { color: false, width });
    for (const figure of ['40.0% (4/10)', '2602 ms', '11.20 / 33.60 / 38.43', '5936', 'a forged session id is not', 'stores: redis: redis-server 7.0.15']) {
      expect(folded.replace(/\s*│\s*/g, ' ')).toContain(figure);
    }
  });
});

describe('terminalWidth', () => {
  it("is a terminal's own width, COLUMNS over it, and none for a file or a pipe", () => {
    expect(terminalWidth({ isTTY: true, columns: 132 }, {})).toBe(132);
    expect(terminalWidth({ isTTY: true, columns: 132 }, { COLUMNS: '100' })).toBe(100);
    expect(terminalWidth({ isTTY: true, columns: 132 }, { COLUMNS: 'wide' })).toBe(132);
    expect(terminalWidth({ isTTY: true, columns: 0 }, {})).toBeUndefined();
    expect(terminalWidth({ isTTY: false, columns: 80 }, { COLUMNS: '100' })).toBeUndefined();
    expect(terminalWidth({}, { COLUMNS: '100' })).toBeUndefined();
  });
});
