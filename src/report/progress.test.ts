import { describe, expect, it } from 'vitest';
import type { ResultRow } from './model.js';
import { lineProgress } from './progress.js';

function lines(row: ResultRow): string[] {
  let text = '';
  lineProgress({ write: (line: string) => (text += line) })({ type: 'row', row });
  return text.trimEnd().split('\n');
}

const metrics = (values: Record<string, unknown>) => ({ hitRate: 1, errors: 0, sessionLoss: null, logins: 30, failedLogins: 0, ...values }) as unknown as ResultRow['metrics'];

describe('line progress', () => {
  it("a finished row's line tells its failed logins, and each warning follows on a line of its own", () => {
    const row: ResultRow = {
      strategy: 'redis',
      scenario: 'login-read',
      status: 'ok',
      durationMs: 2_000,
      metrics: metrics({ failedLogins: 3 }),
      warnings: [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403)' }],
    };
    expect(lines(row)).toEqual(['hactl: redis × login-read: ok: hit 100.0%, 0 errors, 3/30 logins failed (2.0 s)', 'hactl: redis × login-read: warning: 3/30 logins failed (first: answered 403)']);
  });

  it('an error row of failed logins gives its reason, not a hit rate of 0%', () => {
    const row: ResultRow = {
      strategy: 'sticky',
      scenario: 'login-read',
      status: 'error',
      reason: '10/10 logins failed: no session strategy was measured',
      metrics: metrics({ hitRate: null, logins: 10, failedLogins: 10 }),
      warnings: [{ id: 'failed-logins', message: '10/10 logins failed (first: answered 403)', invalid: true }],
    };
    expect(lines(row)).toEqual([
      'hactl: sticky × login-read: error: 10/10 logins failed: no session strategy was measured',
      'hactl: sticky × login-read: invalid: 10/10 logins failed (first: answered 403)',
    ]);
  });

  it('a row without failed logins reads as before', () => {
    expect(lines({ strategy: 'none', scenario: 'login-read', status: 'ok', metrics: metrics({ hitRate: 0.34 }) })).toEqual(['hactl: none × login-read: ok: hit 34.0%, 0 errors']);
  });

  it('says a cluster starts, or on an external deployment which health path is checked instead', () => {
    let text = '';
    const progress = lineProgress({ write: (line: string) => (text += line) });
    progress({ type: 'scenario-start', strategy: 'redis', scenario: 'login-read' });
    progress({ type: 'scenario-start', strategy: 'redis', scenario: 'kill-node', checking: 'https://shop.example.com/healthz' });
    expect(text.trimEnd().split('\n')).toEqual(['hactl: redis × login-read: starting cluster', 'hactl: redis × kill-node: checking https://shop.example.com/healthz']);
  });
});
