import { detectionWindowMs } from '../balancer/settings.js';
import type { LatencySummary } from '../metrics/histogram.js';
import { describeStoreFailover } from '../metrics/store-failover.js';
import { describeReplicaReads } from '../metrics/replica-reads.js';
import { isExternalBalancer, rowIsInvalid, shownStatus, type ClusterBalancerSettings, type Report, type ResultRow, type RowWarning } from './model.js';
import { share } from './comparison.js';
import { commandEvidence, type CommandEvidence, type Fault, type FaultCommandRun, type Finding } from '../driver/records.js';

/** Cell texts shared by the terminal table and Markdown, so both say exactly the same. */
export const COLUMNS = ['strategy', 'scenario', 'hit rate', 'miss rate', 'errors', 'session loss', 'recovery', 'login p50/p95/p99 ms', 'read p50/p95/p99 ms', 'imbalance', 'figures'];

/** Beside the hit-rate cell of a row with warnings: its figures are doubtful, the lines under the table say why. */
export const WARNING_MARK = ' ⚠';

export function rowCells(row: ResultRow): string[] {
  const m = row.metrics;
  const mark = (row.warnings ?? []).length > 0 ? WARNING_MARK : '';
  // Figures the row's own warning says measure nothing of the strategy are kept in the JSON as
  // evidence, not shown in a table where they would read as results.
  if (row.status !== 'ok' || !m || rowIsInvalid(row)) return [row.strategy, row.scenario, `${shownStatus(row)}${mark}`, ...COLUMNS.slice(3).map(() => '')];
  return [
    row.strategy,
    row.scenario,
    `${percent(m.hitRate)}${mark}`,
    percent(m.missRate),
    String(m.errors),
    m.sessionLoss === null ? (m.usersWithSession === 0 ? 'no session before' : '—') : `${percent(m.sessionLoss)} (${m.usersLost}/${m.usersWithSession})`,
    recovery(row),
    latency(m.latencyByKind.login),
    latency(m.latencyByKind.read),
    m.imbalance !== null ? m.imbalance.toFixed(2) : m.replicasKnown === false ? 'unknown' : '—',
    figures(m).join('; '),
  ];
}

/** The figures only some scenarios yield, each as a short phrase. */
export function figures(m: NonNullable<ResultRow['metrics']>): string[] {
  const out: string[] = [];
  // Absent from reports written before the figure existed: nothing to say then, rather than a 0.
  if (m.failedLogins !== undefined && m.failedLogins > 0) out.push(`logins failed ${m.failedLogins}/${m.logins}`);
  if (m.storeFailover) out.push(describeStoreFailover(m.storeFailover));
  if (m.replicaReads) out.push(describeReplicaReads(m.replicaReads));
  if (m.lostUpdates) out.push(`lost updates ${m.lostUpdates.lost}/${m.lostUpdates.acknowledged} (${percent(m.lostUpdates.rate)})`);
  if (m.expiry) {
    const e = m.expiry;
    out.push(
      `before the idle timeout ${e.allReadsHit}/${e.users} sessions hit on every read (${e.replicasServing.length}/${e.replicas} replicas serving)`,
      `after it ${e.stale}/${e.users} still served${e.staleReplicas.length > 0 ? ` (by ${e.staleReplicas.join(', ')})` : ''}`,
    );
  }
  if (m.storeFault) {
    const f = m.storeFault;
    const answered = f.latencyMs ? `, p50/p99 ${f.latencyMs.p50.toFixed(0)}/${f.latencyMs.p99.toFixed(0)} ms` : '';
    out.push(`during store fault: 5xx ${percent(f.errorRate)}${answered}, ${f.hung} hung > ${f.hangMs} ms, ${f.failOpen} served without the store`);
  }
  const restarts = m.faults.filter((fault) => fault.kind === 'restart-replica');
  if (restarts.length > 0) {
    const drained = restarts.map((fault) => Number(fault.detail?.drainedMs ?? 0));
    const abandoned = restarts.reduce((sum, fault) => sum + Number(fault.detail?.abandoned ?? 0), 0);
    out.push(`${restarts.length} drained (longest ${Math.max(...drained)} ms, ${abandoned} requests abandoned)`);
  }
  return out;
}

/** Server output in a reason may span lines; a report line may not. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' | ').trim();
}

/** A fraction as every table of the report shows one (see share), `—` for none. */
export function percent(fraction: number | null): string {
  return fraction === null ? '—' : share(fraction);
}

export function latency(summary: LatencySummary | undefined): string {
  if (!summary) return '—';
  return [summary.p50, summary.p95, summary.p99].map((ms) => ms.toFixed(2)).join(' / ');
}

function recovery(row: ResultRow): string {
  const m = row.metrics!;
  if (m.recovered === null) return '—';
  return m.recovered ? `${Math.round(m.recoveryMs!)} ms` : 'not recovered';
}

export function settingsLine(report: Report): string {
  const s = report.settings;
  return (
    `hactl ${report.tool.version} · run ${report.runId} · ${s.runtime} runtime${s.docker ? ` (${s.docker.network} network, ${s.balancer.kind === 'haproxy' ? 'HAProxy in a container' : `balancer in ${s.docker.balancer === 'container' ? 'a container' : s.docker.balancer}`})` : ''}${appText(s)} · ${s.replicas} replicas · ${s.users} users · ` +
    `${s.reads} reads each · concurrency ${s.concurrency}${loadText(s)} · seed ${s.seed} · ${balancerText(s)} · ${(report.durationMs / 1000).toFixed(1)} s`
  );
}

/** What the run held its load to: --rate, and no warm-up (absent from reports before the flags: warm-up ran). */
function loadText(s: Report['settings']): string {
  return `${s.rate !== undefined ? ` · at most ${s.rate} requests/s` : ''}${s.warmUp === false ? ' · no warm-up' : ''}`;
}

/** Rows that did not run, with why and what to do; one line each. */
export function notRunLines(report: Report): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const row of report.results) {
    if (row.status === 'ok') continue;
    const text = `${row.strategy}${row.status === 'skipped' && row.fix ? '' : ` × ${row.scenario}`}: ${row.status}: ${oneLine(row.reason ?? '')}${row.fix ? ` (fix: ${row.fix})` : ''}`;
    if (!seen.has(text)) lines.push(text);
    seen.add(text);
  }
  return lines;
}

/**
 * Every row warning, one line each (`redis × kill-node: warning: …`); `invalid` instead of
 * `warning` when the warning means the row's figures measure nothing of the strategy.
 */
export function warningLines(report: Pick<Report, 'results'>): string[] {
  return report.results.flatMap((row) => (row.warnings ?? []).map((warning) => warningLine(row, warning)));
}

export function warningLine(row: Pick<ResultRow, 'strategy' | 'scenario'>, warning: RowWarning): string {
  return `${row.strategy} × ${row.scenario}: ${warning.invalid ? 'invalid' : 'warning'}: ${oneLine(warning.message)}`;
}

/** Findings as (strategy, scenario, finding) triples, in report order. */
export function findingRows(report: Report) {
  return report.results.flatMap((row) => (row.findings ?? []).map((finding) => ({ row, finding })));
}

/**
 * The findings table's columns, in every format. Each row names its scenario: cookie-swap and
 * security both check forged ids, and without it their rows read as one printed twice. They are
 * not merged into one row with the evidence summed: each scenario checks in its own way (its own
 * users, reads and logins), an expectation, a JUnit case and --fail-on-findings judge a finding
 * per strategy × scenario, and one scenario may pass where the other fails.
 */
export const FINDING_COLUMNS = ['strategy', 'scenario', 'finding', 'result', 'evidence'];

export function findingCells(row: Pick<ResultRow, 'strategy' | 'scenario'>, finding: Finding): string[] {
  return [row.strategy, row.scenario, finding.title, verdict(finding), finding.summary];
}

export function verdict(finding: Pick<Finding, 'passed' | 'fact'>): 'pass' | 'FAIL' | 'info' | 'n/a' {
  if (finding.passed === null) return finding.fact ? 'info' : 'n/a';
  return finding.passed ? 'pass' : 'FAIL';
}

export function storeLines(report: Report): string[] {
  const byStrategy = new Map<string, string>();
  for (const row of report.results) if (row.store) byStrategy.set(row.strategy, row.store);
  return [...byStrategy].map(([strategy, store]) => `${strategy}: ${store}`);
}

/** Which app was under test, when it was not the bundled demo app. */
function appText(s: Report['settings']): string {
  const app = s.app;
  if (!app || (app.command === undefined && app.image === undefined && app.target === undefined)) return '';
  const how = app.target !== undefined ? `at ${app.target}` : app.image !== undefined ? `image ${app.image}` : `command "${app.command}"`;
  return ` · app ${app.profile} (${how})`;
}

/**
 * The balancer and its timing. How long a dead replica stays in rotation is stated outright: at
 * ALB's timing it is most of a minute, and a kill-node row that takes minutes is the profile's
 * truth, not a slow run.
 */
function balancerText(s: Report['settings']): string {
  const balancer = s.balancer;
  if (isExternalBalancer(balancer)) {
    return `the deployment's own balancer at ${balancer.target} (probed at ${balancer.probePath}; its health checks, stickiness and timings are its own, unknown to hactl)`;
  }
  const hc = balancer.healthCheck;
  const name = balancer.kind === 'haproxy' ? 'HAProxy' : 'hactl balancer';
  const out = detectionWindowMs(hc, 'unhealthy');
  return (
    `${name} ` +
    `(${balancer.profile} profile: ${balancer.algorithm}, health check every ${hc.intervalMs} ms, unhealthy after ${hc.unhealthyThreshold} ` +
    `(a dead replica leaves rotation ${seconds(out.earliestMs)}–${seconds(out.latestMs)} s after it dies), ` +
    `deregistration delay ${balancer.deregistrationDelayMs / 1000} s)${overheadText(name, balancer.overheadMs)}`
  );
}

/** Milliseconds as seconds, to a tenth at most: 0.2, 30, 10.9. */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/**
 * The balancer's own share of the latencies in the table, as measured at the start of the run:
 * what its samples support and no more. The median, with its spread over the rounds it was
 * measured in; no p99, since of a few hundred requests the p99 is one or two slow ones and the
 * difference of two such figures is noise. When a round saw the direct path as slow as the
 * balancer's, the difference is stated as within noise, never as an amount "added".
 */
export function overheadText(name: string, overhead: ClusterBalancerSettings['overheadMs']): string {
  if (!overhead) return '';
  const ms = (value: number) => value.toFixed(2);
  const rounds = overhead.p50ByRound ?? [];
  if (rounds.length < 2) {
    // A report written before the rounds were kept: its p50 alone, without a spread to judge it by.
    return overhead.p50 > 0
      ? ` · ${name} adds ${ms(overhead.p50)} ms to the median request over direct requests (${overhead.samples} each way; spread not measured)`
      : ` · ${name} adds nothing to the median request that ${overhead.samples} requests each way could measure`;
  }
  const low = Math.min(...rounds);
  const spread = `${ms(low)} to ${ms(Math.max(...rounds))} ms over ${rounds.length} rounds of ${Math.floor(overhead.samples / rounds.length)} requests each way`;
  const high = Math.max(...rounds);
  if (low > 0) return ` · ${name} adds ${ms(overhead.p50)} ms to the median request over direct requests (${spread})`;
  // Direct requests slower in every round: the app's own latency (or a Nagle delay) dwarfs the balancer's, which then cannot be told.
  if (high < 0) return ` · ${name}'s latency could not be measured: direct requests were the slower ones in every round (${spread}); the app's own latency varies more than a balancer adds`;
  return ` · ${name} adds no measurable latency to the median request (${ms(overhead.p50)} ms, within noise: ${spread})`;
}

/** How much of a fault command's output a report line shows: its end, where the error usually is. */
const OUTPUT_EXCERPT_CHARS = 160;

/**
 * What hactl saw of each fault it did not do itself (--runtime external), one line each: whether
 * the fault was seen to take effect and how, then every fault command that ran for it, with its
 * exit, how long it ran and the end of its output
 * (`redis × kill-node: kill-replica replica-1: --kill-replica-cmd exit 0 after 3.02 s (from 0.81 s): "task stopped"`).
 */
export function faultLines(report: Pick<Report, 'results'>): string[] {
  const lines: string[] = [];
  for (const row of report.results) {
    for (const fault of row.metrics?.faults ?? []) lines.push(...faultRowLines(row, fault));
  }
  return lines;
}

export function faultRowLines(row: Pick<ResultRow, 'strategy' | 'scenario'>, fault: Fault): string[] {
  const what = `${row.strategy} × ${row.scenario}: ${fault.kind} ${fault.target}`;
  const lines: string[] = [];
  const evidence = commandEvidence(fault);
  if (evidence.observed !== undefined) {
    const how = evidence.effect ? ` (${EFFECT_TEXT[evidence.effect]})` : '';
    lines.push(`${what}: ${evidence.observed ? 'observed' : 'NOT observed'}${how}${evidence.observation ? `: ${oneLine(evidence.observation)}` : ''}`);
  }
  for (const command of evidence.commands ?? []) lines.push(`${what}: ${commandText(command)}`);
  return lines;
}

/** How the moment a fault took effect was found, in words. */
const EFFECT_TEXT: Record<NonNullable<CommandEvidence['effect']>, string> = {
  'first-failure': 'timed from the first failed request',
  'replica-gone': "timed from the replica's disappearance from answers",
  'command-start': "timed from the command's start",
};

/** `--kill-replica-cmd exit 0 after 3.02 s (from 0.81 s): "task stopped"`. */
export function commandText(command: FaultCommandRun): string {
  const took = Math.max(0, command.endAt - command.startAt) / 1000;
  return `${command.flag} ${command.exit} after ${took.toFixed(2)} s (from ${(command.startAt / 1000).toFixed(2)} s): ${outputExcerpt(command.output)}`;
}

/** The end of a command's output on one line, quoted; `no output` for none. */
export function outputExcerpt(output: string): string {
  const flat = oneLine(output.trim());
  if (!flat) return 'no output';
  return JSON.stringify(flat.length > OUTPUT_EXCERPT_CHARS ? `…${flat.slice(-OUTPUT_EXCERPT_CHARS)}` : flat);
}
