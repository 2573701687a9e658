import { describe, expect, it } from 'vitest';
import type { FailoverRecord, LoginRecord, WriteRecord } from '../driver/records.js';
import { describeStoreFailover, lostWrites, storeFailoverMetrics, storeFailoverWarnings } from './store-failover.js';

const write = (user: number, at: number, value: number | undefined, status = 200): WriteRecord => ({ user, at, end: at + 5, status, ...(value !== undefined ? { value } : {}) });
const logins: LoginRecord[] = [{ user: 0, end: 10, status: 200 }, { user: 1, end: 10, status: 200 }];

describe('lost acknowledged writes', () => {
  it('are the writes a later acknowledgement or the final counter did not build on', () => {
    // 1..5 acknowledged, the failover rolled the counter back to 3, then 4 and 5 were written again.
    const writes = [1, 2, 3, 4, 5, 4, 5].map((value, i) => write(0, i * 10, value));
    expect(lostWrites(writes, 5).map((w) => w.value)).toEqual([4, 5]);
    expect(lostWrites(writes.slice(0, 5), 3).map((w) => w.value)).toEqual([4, 5]);
    expect(lostWrites(writes.slice(0, 5), 5)).toEqual([]);
  });

  it('count sessions gone, date each lost write from the kill, and keep unanswered writes apart', () => {
    const record: FailoverRecord = {
      node: 'node-1',
      at: 100,
      writes: [write(0, 50, 1), write(0, 80, 2), write(0, 95, undefined, 0), write(0, 120, undefined, 500), write(0, 300, 2), write(1, 60, 1), write(1, 310, 1)],
      finals: [{ user: 0, session: true, counter: 2 }, { user: 1, session: false, counter: null }],
    };
    const m = storeFailoverMetrics(record, logins);
    // User 0: value 2 (acknowledged at 85) was rebuilt by the write at 300; user 1's session is gone with its write before the kill.
    expect(m).toMatchObject({ acknowledged: 4, lost: 2, exact: true, sessions: 2, sessionsLost: 1, indeterminate: 1, unavailableMs: 205, errorsWhileUnavailable: 2 });
    expect(m.lostAt).toEqual([-35, -15]);
    expect(describeStoreFailover(m)).toBe('lost 2/4 acknowledged writes (all within 35 ms before the kill); 1/2 sessions lost; unavailable 0.2 s; 2 writes failed meanwhile; 1 indeterminate');
  });

  it('fall back to acknowledged minus the final counter when answers do not say the counter, and say so', () => {
    const record: FailoverRecord = { node: 'node-1', at: 100, writes: [write(0, 10, undefined), write(0, 20, undefined), write(0, 30, undefined), write(0, 200, undefined)], finals: [{ user: 0, session: true, counter: 2 }] };
    const m = storeFailoverMetrics(record, logins.slice(0, 1));
    expect(m).toMatchObject({ acknowledged: 4, lost: 2, exact: false, lostAt: [] });
    expect(describeStoreFailover(m)).toMatch(/^lost 2\/4 acknowledged writes \(at least/);
  });

  it('count as indeterminate a write sent before the kill and answered with an error after it, not one that failed before it', () => {
    const failedEarly: WriteRecord = { user: 0, at: 80, end: 90, status: 500 };
    const failedAcross: WriteRecord = { user: 0, at: 95, end: 130, status: 500 };
    const m = storeFailoverMetrics({ node: 'node-1', at: 100, writes: [write(0, 10, 1), failedEarly, failedAcross, write(0, 200, 2)], finals: [{ user: 0, session: true, counter: 2 }] }, logins.slice(0, 1));
    expect(m.indeterminate).toBe(1);
  });

  it('never take a session whose reads got no answer for a lost one', () => {
    const record: FailoverRecord = { node: 'node-1', at: 100, writes: [write(0, 10, 1), write(0, 20, 2), write(1, 30, 1)], finals: [{ user: 0, session: null, counter: null }, { user: 1, session: false, counter: null }] };
    const m = storeFailoverMetrics(record, logins);
    expect(m).toMatchObject({ acknowledged: 3, lost: 1, sessionsLost: 1, sessionsUnread: 1, countersUnread: 0 });
    expect(describeStoreFailover(m)).toContain('1/2 sessions lost; 1 sessions unread after the failover');
  });

  it('never take a counter read that got no answer for a counter of 0', () => {
    const record: FailoverRecord = { node: 'node-1', at: 100, writes: [write(0, 10, 1), write(0, 20, 2)], finals: [{ user: 0, session: true, counter: null }] };
    const m = storeFailoverMetrics(record, logins.slice(0, 1));
    expect(m).toMatchObject({ acknowledged: 2, lost: 0, countersUnread: 1 });
    expect(describeStoreFailover(m)).toContain('1 counters unread after the failover');
  });

  it('say when no write was acknowledged after the kill', () => {
    const m = storeFailoverMetrics({ node: 'node-1', at: 100, writes: [write(0, 10, 1), write(0, 150, undefined, 0)], finals: [{ user: 0, session: true, counter: 1 }] }, logins.slice(0, 1));
    expect(m.unavailableMs).toBeNull();
    expect(describeStoreFailover(m)).toContain('no write acknowledged after the kill');
  });
});

describe('a failover row that measured nothing of the strategy', () => {
  const base = storeFailoverMetrics({ node: 'node-1', at: 100, writes: [write(0, 10, 1)], finals: [{ user: 0, session: true, counter: 1 }] }, logins.slice(0, 1));

  it('is invalid when no session could be read back, and warned of when some could not', () => {
    expect(storeFailoverWarnings({ ...base, sessions: 2, sessionsUnread: 2 })).toMatchObject([{ id: 'sessions-unread', invalid: true }]);
    expect(storeFailoverWarnings({ ...base, sessions: 2, sessionsUnread: 1 })).toMatchObject([{ id: 'sessions-unread' }]);
    expect(storeFailoverWarnings({ ...base, sessions: 2, sessionsUnread: 1 })[0]!.invalid).toBeUndefined();
    expect(storeFailoverWarnings(base)).toEqual([]);
  });

  it('is invalid when the app of a variant that waits for a replica never asked the primary to', () => {
    const failover = { decidedBy: 'hactl' as const, mode: 'sync' as const, profile: 'fast', timings: 'fast', events: [], lagBeforeKill: [], mostPrimariesAtOnce: 1 };
    expect(storeFailoverWarnings({ ...base, failover, syncRequests: 0 })).toMatchObject([{ id: 'app-did-not-wait', invalid: true }]);
    expect(storeFailoverWarnings({ ...base, failover, syncRequests: 40 })).toEqual([]);
    expect(storeFailoverWarnings({ ...base, failover, syncRequests: null })).toEqual([]);
  });
});

