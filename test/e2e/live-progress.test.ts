import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HACTL } from './helpers.js';

/**
 * On a terminal (a pseudo-terminal from util-linux's script), progress is a status line redrawn
 * in place, strategy × scenario, phase, requests and hit rate, that makes way for the table.
 */
describe('progress on a terminal', () => {
  it('redraws one status line per scenario, then prints the table', async () => {
    const command = `${process.execPath} ${HACTL} run --strategy none --scenario login-read --users 30 --reads 40 --seed 3`;
    const output = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' }, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
        error ? reject(new Error(`${error.message}\n${stdout}`)) : resolve(stdout),
      );
    });
    const statuses = [...output.matchAll(/\r\x1b\[2Khactl: none × login-read · (\S+) · ([\d,]+) requests · hit rate (\S+) · \d+ s/g)];
    expect(statuses.length).toBeGreaterThan(1);
    const phases = new Set(statuses.map((match) => match[1]));
    expect(phases).toContain('read');
    // Requests only grow, and the hit rate of none is about 1 in 3 once reads have been answered.
    const counts = statuses.map((match) => Number(match[2]!.replace(/,/g, '')));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const last = statuses.at(-1)!;
    expect(Number.parseFloat(last[3]!)).toBeGreaterThan(20);
    expect(Number.parseFloat(last[3]!)).toBeLessThan(50);
    // The row's line replaces the status line, and the table follows.
    expect(output).toMatch(/hactl: none × login-read: ok: hit \d+\.\d%/);
    expect(output).toMatch(/│ none +│ login-read │/);
  }, 120_000);
});
