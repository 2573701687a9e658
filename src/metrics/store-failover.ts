import type { FailoverRecord, LoginRecord, WriteRecord } from '../driver/records.js';
import type { RowWarning } from '../driver/warnings.js';

/**
 * DESIGN.md's store failover figures. Each user writes one request at a time, so no race can
 * explain a loss; only the store can.
 */
export interface StoreFailoverMetrics {
  /** The node killed. */
  node: string;
  /** Session writes (increments) answered 2xx: every one of a session still there, those before the kill of one that is gone. */
  acknowledged: number;
  /** Acknowledged writes the store no longer holds. */
  lost: number;
  /** Each lost write's acknowledgement, in milliseconds relative to the kill (negative: before it). */
  lostAt: number[];
  /**
   * Whether each lost write is known (every acknowledgement said the counter after it), or only
   * their number, as acknowledged − final counter per user (a lower bound when writes went unanswered).
   */
  exact: boolean;
  /** Users whose login was answered 2xx, and those of them whose session is gone after the failover. */
  sessions: number;
  sessionsLost: number;
  /** Sessions whose every read back got no answer or a 5xx: neither kept nor lost; their losses are known only from later acknowledgements. */
  sessionsUnread: number;
  /** Sessions still there whose counter read got no answer: their losses are known only from later acknowledgements. */
  countersUnread: number;
  /**
   * Writes sent before the kill and not acknowledged by its time: no answer, or an error answered
   * after it (the app's store command may have reached the primary before it died). Maybe kept,
   * maybe not (Jepsen's "info" operations), so neither lost nor kept.
   */
  indeterminate: number;
  /** From the kill to the first acknowledged write sent after it; null when none was. */
  unavailableMs: number | null;
  /** Writes that failed (no answer, or not 2xx: a 401 of a session gone counts) from the kill until then, or until the writes stopped. */
  errorsWhileUnavailable: number;
  /** The latency on the replication links while the writes ran, if any. */
  replicationDelayMs: number | null;
  /** For a variant whose app makes writes synchronous: how many times apps asked the primary to wait (WAIT) before the kill; null when the store cannot tell or the variant is not one. */
  syncRequests: number | null;
  /** Acknowledged writes per second before the kill: W in DESIGN.md's W × D. */
  writesPerSecond: number | null;
  failover: FailoverRecord['failover'] | null;
}

const acked = (write: WriteRecord) => write.status >= 200 && write.status < 300;

/** The figures of one failover, from its records and the scenario's logins. */
export function storeFailoverMetrics(record: FailoverRecord, logins: readonly LoginRecord[]): StoreFailoverMetrics {
  const loggedIn = new Set(logins.filter((login) => login.failure === undefined).map((login) => login.user));
  const finals = new Map(record.finals.map((final) => [final.user, final]));
  const byUser = new Map<number, WriteRecord[]>();
  for (const write of record.writes) byUser.set(write.user, [...(byUser.get(write.user) ?? []), write]);
  const acknowledgedWrites = record.writes.filter(acked);
  const exact = acknowledgedWrites.every((write) => write.value !== undefined);

  let lost = 0;
  let acknowledged = 0;
  let countersUnread = 0;
  let sessionsUnread = 0;
  const lostAt: number[] = [];
  let sessionsLost = 0;
  for (const user of loggedIn) {
    const final = finals.get(user);
    // A session whose reads got no answer is neither kept nor lost: only its own acknowledgements can tell.
    const unread = final === undefined || final.session === null;
    if (unread) sessionsUnread++;
    const sessionKept = final?.session === true || unread;
    if (!sessionKept) sessionsLost++;
    // A session that is gone took every write acknowledged before the kill with it; what the user
    // wrote after it went to whatever session the app gave it then, which is no write of the lost one.
    const writes = (byUser.get(user) ?? []).filter((write) => acked(write) && (sessionKept || write.at < record.at)).sort((a, b) => a.end - b.end);
    // A session still there whose counter read got no answer: only its own acknowledgements can tell.
    const finalCounter = sessionKept ? (unread ? null : (final?.counter ?? null)) : 0;
    if (finalCounter === null && !unread) countersUnread++;
    acknowledged += writes.length;
    if (exact) {
      for (const lostWrite of lostWrites(writes, finalCounter ?? Number.POSITIVE_INFINITY)) {
        lost++;
        lostAt.push(Math.round(lostWrite.end - record.at));
      }
    } else if (finalCounter !== null) {
      lost += Math.max(0, writes.length - finalCounter);
    }
  }
  lostAt.sort((a, b) => a - b);

  const beforeKill = record.writes.filter((write) => write.at < record.at);
  const firstBack = record.writes.filter((write) => write.at >= record.at && acked(write)).sort((a, b) => a.end - b.end)[0];
  const backAt = firstBack?.end;
  const ackedBefore = beforeKill.filter(acked);
  const firstSent = beforeKill.reduce((min, write) => Math.min(min, write.at), Number.POSITIVE_INFINITY);
  const span = record.at - firstSent;
  return {
    node: record.node,
    acknowledged,
    lost,
    lostAt: exact ? lostAt : [],
    exact,
    sessions: loggedIn.size,
    sessionsLost,
    sessionsUnread,
    countersUnread,
    indeterminate: beforeKill.filter((write) => !acked(write) && write.end >= record.at).length,
    unavailableMs: backAt === undefined ? null : Math.round(backAt - record.at),
    errorsWhileUnavailable: record.writes.filter((write) => write.end >= record.at && (backAt === undefined || write.end <= backAt) && !acked(write)).length,
    replicationDelayMs: record.replicationDelayMs ?? null,
    syncRequests: record.syncRequests ?? null,
    writesPerSecond: span > 0 && Number.isFinite(span) ? Math.round((ackedBefore.length / span) * 1000) : null,
    failover: record.failover ?? null,
  };
}

/**
 * The acknowledged writes of one user (in the order they were answered) that the store lost: a
 * counter only goes up, so a write whose value a later acknowledgement did not exceed, or that the
 * final counter is below, was undone.
 */
export function lostWrites(writes: readonly WriteRecord[], finalCounter: number): WriteRecord[] {
  const lost: WriteRecord[] = [];
  let lowestLater = finalCounter + 1;
  for (let i = writes.length - 1; i >= 0; i--) {
    const value = writes[i]!.value!;
    if (value >= lowestLater) lost.push(writes[i]!);
    lowestLater = Math.min(lowestLater, value);
  }
  return lost.reverse();
}

/**
 * What makes a failover row's figures no measurement of the strategy: every session unread after
 * it (the app never reached the store again, or the reads failed), or a variant whose app must
 * wait for a replica run by an app that never asked (its losses are the asynchronous store's).
 */
export function storeFailoverWarnings(m: StoreFailoverMetrics): RowWarning[] {
  const warnings: RowWarning[] = [];
  if (m.sessions > 0 && m.sessionsUnread === m.sessions) {
    warnings.push({ id: 'sessions-unread', invalid: true, message: `no session could be read back after the failover (${m.sessions} users; every read got no answer or a 5xx): the app did not reach the store again, so what it kept is unknown` });
  } else if (m.sessionsUnread > 0) {
    warnings.push({ id: 'sessions-unread', message: `${m.sessionsUnread}/${m.sessions} sessions could not be read back (no answer or a 5xx): their losses are known only from later acknowledgements` });
  }
  if (m.failover?.mode === 'sync' && m.syncRequests === 0) {
    warnings.push({ id: 'app-did-not-wait', invalid: true, message: `the variant acknowledges a write only once a replica has it, but the app never asked the primary to wait (0 WAIT calls during ${m.acknowledged} acknowledged writes before the kill): these figures are an asynchronous store's; the app must call WAIT after each session write` });
  }
  return warnings;
}

/** The figures in one line, as the table's cell says them. */
export function describeStoreFailover(m: StoreFailoverMetrics): string {
  const parts: string[] = [];
  const window = m.lostAt.length > 0 ? lostWindow(m.lostAt) : '';
  parts.push(`lost ${m.lost}/${m.acknowledged} acknowledged writes${window}${m.exact ? '' : ' (at least; the answers did not say the counter)'}`);
  parts.push(`${m.sessionsLost}/${m.sessions} sessions lost`);
  if (m.sessionsUnread > 0) parts.push(`${m.sessionsUnread} sessions unread after the failover (no answer or 5xx; neither kept nor lost)`);
  if (m.countersUnread > 0) parts.push(`${m.countersUnread} counters unread after the failover (their losses may be undercounted)`);
  parts.push(m.unavailableMs === null ? 'no write acknowledged after the kill' : `unavailable ${(m.unavailableMs / 1000).toFixed(1)} s`);
  parts.push(`${m.errorsWhileUnavailable} writes failed meanwhile`);
  if (m.indeterminate > 0) parts.push(`${m.indeterminate} indeterminate`);
  if (m.failover && m.failover.mostPrimariesAtOnce > 1) parts.push(`SPLIT BRAIN: ${m.failover.mostPrimariesAtOnce} primaries at once`);
  const early = m.failover?.eventsBeforeKill?.filter((event) => event.kind === 'promoted') ?? [];
  if (early.length > 0) parts.push(`FAILOVER BEFORE THE KILL: ${early.map((event) => `${event.node} promoted at ${(event.at / 1000).toFixed(1)} s (${event.detail ?? ''})`).join(', ')}`);
  return parts.join('; ');
}

function lostWindow(lostAt: readonly number[]): string {
  const before = lostAt.filter((at) => at <= 0);
  if (before.length === lostAt.length) return ` (all within ${-Math.min(...before)} ms before the kill)`;
  return ` (from ${Math.min(...lostAt)} ms to ${Math.max(...lostAt)} ms of the kill)`;
}
