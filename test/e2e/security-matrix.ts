import type { Finding } from '../../src/driver/records.js';

/**
 * Issue 15's confusion matrix as data: weakapp (fixtures/apps/weakapp) in each of its modes, run
 * on each strategy, and what each security finding must say about it. Pure, so that the contract
 * is read in one place and a red end-to-end test can print every cell, not just the first wrong one.
 */

export const FINDINGS = [
  'forged-id-read',
  'forged-id-adopted',
  'session-fixation',
  'logout-invalidates',
  'cookie-httponly',
  'cookie-secure',
  'cookie-samesite',
  'cookie-path',
  'cookie-no-domain',
  'session-id-quality',
  'idle-timeout',
] as const;
export type FindingName = (typeof FINDINGS)[number];

export const STRATEGIES = ['none', 'sticky', 'redis'] as const;

export interface Mode {
  /** How the matrix names it. */
  name: string;
  /** The app's environment (--app-env), WEAKNESS and ID_CASE. */
  env: Record<string, string>;
  /** The finding its weakness must fail on every strategy; none for the secure mode. */
  fails?: FindingName;
  /** Ids judged in the id-quality check: the full 1,000, or 30 (that finding then not conclusive). */
  idSample: number;
}

const weak = (weakness: string, fails: FindingName, extra: Record<string, string> = {}, idSample = 30): Mode => ({
  name: Object.keys(extra).length === 0 ? weakness : `${weakness} ${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  env: { WEAKNESS: weakness, ...extra },
  fails,
  idSample,
});

export const MODES: readonly Mode[] = [
  { name: 'secure', env: {}, idSample: 1000 },
  weak('predictable-ids', 'session-id-quality', {}, 1000),
  weak('adopt-ids', 'forged-id-adopted', { ID_CASE: 'lower' }),
  weak('adopt-ids', 'forged-id-adopted', { ID_CASE: 'upper' }),
  weak('fixation', 'session-fixation'),
  weak('logout-keeps-session', 'logout-invalidates'),
  weak('no-httponly', 'cookie-httponly'),
  weak('no-samesite', 'cookie-samesite'),
  weak('samesite-none', 'cookie-samesite'),
  weak('domain-cookie', 'cookie-no-domain'),
  weak('no-idle-timeout', 'idle-timeout'),
];

export interface Cell {
  mode: string;
  strategy: string;
  finding: string;
  /** pass, FAIL, n/a, or missing (no such finding in the row). */
  actual: string;
  ok: boolean;
  /** What the contract wanted, when the cell is wrong. */
  wanted?: string;
  summary?: string;
}

const verdict = (finding: Finding | undefined) => (finding === undefined ? 'missing' : finding.passed === true ? 'pass' : finding.passed === false ? 'FAIL' : 'n/a');
const NULL_REASON = /not checked|not conclusive/;
const num = (finding: Finding, key: string): number | undefined => (typeof finding.evidence[key] === 'number' ? (finding.evidence[key] as number) : undefined);

/** Whether one finding of one row is what the contract says; why not, if not. */
export function judge(mode: Mode, strategy: string, id: string, finding: Finding | undefined): string | undefined {
  if (finding === undefined) return 'the finding, which the security scenario records';
  const passed = finding.passed;
  if (id === mode.fails) {
    if (passed !== false) return 'FAIL (the weakness it checks is switched on)';
    // The app itself kept the session: the replica that served the logout still serves it.
    if (id === 'logout-invalidates' && strategy !== 'none' && !((num(finding, 'keptByLoggingOutReplica') ?? 0) > 0)) {
      return 'FAIL with evidence keptByLoggingOutReplica > 0';
    }
    return undefined;
  }
  if (id === 'logout-invalidates' && strategy === 'none') {
    // Per-replica sessions: a logout served by another replica destroys nothing where the session
    // lives; that is the replica's doing, not the app's, and the evidence must say so.
    if (passed === true) return undefined;
    if (passed === false && (num(finding, 'loggedOutElsewhere') ?? 0) > 0 && num(finding, 'keptByLoggingOutReplica') === 0) return undefined;
    return 'pass, or FAIL with evidence loggedOutElsewhere > 0 and keptByLoggingOutReplica === 0';
  }
  if (id === 'session-fixation' && mode.env.WEAKNESS === 'adopt-ids' && strategy === 'none') {
    // Adoption is fixation too where replicas keep their own sessions and nothing routes the
    // victim: its login carrying the planted id reaches a replica that never held it, which adopts
    // it, and the victim's session then lives under an id the attacker knows. (On sticky the
    // planted stickiness cookie takes the login to the replica that holds the id, which replaces
    // it; a shared store knows the id everywhere.) So a failure is true here, as ids kept at login.
    if (passed === true) return undefined;
    return passed === false && (num(finding, 'idUnchangedAtLogin') ?? 0) > 0 ? undefined : 'pass, or FAIL with evidence idUnchangedAtLogin > 0 (the planted id adopted by another replica)';
  }
  if (id === 'forged-id-read' && mode.env.WEAKNESS === 'predictable-ids') {
    // Forged ids keep the positions issued ids agree on; a sequential id has few others, so a
    // forged one can be a real session's id: guessed, which is the weakness itself, seen twice.
    return passed === true || (passed === false && (num(finding, 'readsShowingData') ?? 0) > 0) ? undefined : 'pass, or FAIL with readsShowingData > 0 (a forged id guessed a real one)';
  }
  // The only n/a the contract expects: what plain HTTP and a small id sample cannot show.
  if (id === 'cookie-secure') return passed === null && finding.summary.includes('served over plain HTTP') ? undefined : 'n/a: served over plain HTTP';
  if (id === 'session-id-quality' && mode.idSample < 1000) return passed === null && NULL_REASON.test(finding.summary) ? undefined : `n/a: not conclusive with ${mode.idSample} ids`;
  return passed === true ? undefined : 'pass';
}

/** Every cell of one mode's row on one strategy: the contract's findings, and any other the row has. */
export function cellsOf(mode: Mode, strategy: string, findings: readonly Finding[]): Cell[] {
  const byId = new Map(findings.map((finding) => [finding.id, finding]));
  const ids = [...FINDINGS, ...findings.map((finding) => finding.id).filter((id) => !(FINDINGS as readonly string[]).includes(id))];
  return ids.map((id) => {
    const finding = byId.get(id);
    const wanted = judge(mode, strategy, id, finding);
    return {
      mode: mode.name,
      strategy,
      finding: id,
      actual: verdict(finding),
      ok: wanted === undefined,
      ...(wanted ? { wanted } : {}),
      ...(finding ? { summary: finding.summary } : {}),
    };
  });
}

/**
 * The whole matrix as text: a line per mode and strategy, a column per finding, wrong cells marked
 * `!`, then each wrong cell with what was wanted and the finding's own summary.
 */
export function renderMatrix(cells: readonly Cell[]): string {
  const findings = [...new Set(cells.map((cell) => cell.finding))];
  const rows = [...new Set(cells.map((cell) => `${cell.mode} | ${cell.strategy}`))];
  const first = Math.max(...rows.map((row) => row.length), 'mode | strategy'.length);
  const widths = findings.map((finding) => Math.max(finding.length, 8));
  const line = (head: string, values: string[]) => [head.padEnd(first), ...values.map((value, i) => value.padEnd(widths[i]!))].join('  ');
  const out = [line('mode | strategy', findings)];
  for (const row of rows) {
    const mine = cells.filter((cell) => `${cell.mode} | ${cell.strategy}` === row);
    out.push(line(row, findings.map((finding) => {
      const cell = mine.find((one) => one.finding === finding);
      return cell ? `${cell.actual}${cell.ok ? '' : ' !'}` : '';
    })));
  }
  const wrong = cells.filter((cell) => !cell.ok);
  out.push('', wrong.length === 0 ? 'every cell as the contract says' : `${wrong.length} wrong cells (!):`);
  for (const cell of wrong) out.push(`  ${cell.mode} | ${cell.strategy} | ${cell.finding}: ${cell.actual}, wanted ${cell.wanted}${cell.summary ? ` — ${cell.summary}` : ''}`);
  return out.join('\n');
}
