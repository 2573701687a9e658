import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HACTL, runHactl } from './helpers.js';

const REPORT = fileURLToPath(new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url));

/** util-linux's `script` gives hactl a pseudo-terminal for its stdout, as a user's terminal would. */
async function inTerminal(args: string[], columns: number): Promise<string> {
  const command = [process.execPath, HACTL, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], { env: { ...process.env, COLUMNS: String(columns), NO_COLOR: '1' }, timeout: 30_000 });
  return stdout.replace(/\r\n/g, '\n');
}

const widths = (text: string) => text.split('\n').map((line) => Array.from(line).length);

/**
 * The terminal table folds to the terminal's width (COLUMNS over what the terminal reports), so
 * that no line wraps; a pipe keeps every column. Through the real CLI, on a saved report.
 */
describe('the terminal table at 100 columns', () => {
  it('folds on a terminal: no line is wider than 100, and every figure is still there', async () => {
    const text = await inTerminal(['report', REPORT, '--format', 'table'], 100);
    expect(text).toContain('│ strategy │ scenario');
    expect(Math.max(...widths(text))).toBeLessThanOrEqual(100);
    for (const figure of ['40.0% (4/10)', '2602 ms', '11.20 / 33.60 / 38.43', 'cookie-swap', 'stores: redis: redis-server']) expect(text).toContain(figure);
  });

  it('keeps every column on one line through a pipe, COLUMNS or not', async () => {
    const { code, stdout } = await runHactl(['report', REPORT, '--format', 'table'], { COLUMNS: '100' });
    expect(code).toBe(0);
    expect(Math.max(...widths(stdout))).toBeGreaterThan(200);
    expect(stdout).toContain('│ strategy │ scenario     │ hit rate │ miss rate │ errors │ session loss │ recovery │ login p50/p95/p99 ms');
  });
});
