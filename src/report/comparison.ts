import type { ScenarioMetrics } from '../metrics/aggregate.js';
import { strategyRegistry, type RedisPersistence, type StrategyRegistry } from '../strategies.js';
import { rowIsInvalid, type Report, type ResultRow } from './model.js';
import { monthlyCost, type Pricing } from './pricing.js';

/**
 * The comparison that leads the Markdown report: one row per strategy, each figure taken from
 * the scenario that measures it, and one generated line per strategy saying what it measured.
 */

/** A figure of the comparison, or why there is none. */
export type Figure<T> =
  | { state: 'measured'; value: T }
  /** Its scenario was not part of the run. */
  | { state: 'not run' }
  | { state: 'skipped' }
  | { state: 'error' }
  /** The row ran, but a warning says its figures measure nothing of the strategy. */
  | { state: 'invalid' }
  /** A store figure of a strategy that has no store. */
  | { state: 'n/a' }
  /** The scenario ran but yielded no such figure (no answered read, no session before the fault). */
  | { state: 'no data' };

export interface Loss {
  rate: number;
  lost: number;
  of: number;
}

export interface StrategySummary {
  /** As the report names it: `redis`, `redis:aof-always`. */
  strategy: string;
  /** The strategy and variant the label stands for, as the report states them; absent for a label it does not explain. */
  name?: string;
  variant?: string;
  /** Redis persistence of this variant, so that a store loss can say it ran without. */
  persistence?: RedisPersistence;
  hitRate: Figure<number>;
  replicaLoss: Figure<Loss>;
  storeLoss: Figure<Loss>;
  lostUpdates: Figure<Loss>;
  readLatency: Figure<{ p50: number; p99: number }>;
  imbalance: Figure<number>;
  /** The scenario the imbalance comes from, the same for every strategy of a report. */
  imbalanceFrom: string;
  /** Instance cost per month (null: an instance it needs has no price); absent without pricing. */
  cost?: { monthly: number | null; currency: string };
}

export interface Comparison {
  strategies: StrategySummary[];
  /** Where the imbalance column comes from: the imbalance scenario when it ran, else login-read. */
  imbalanceFrom: string;
  pricing?: Pricing;
}

/** The scenario each figure is read from. */
export const SOURCES = {
  hitRate: 'login-read',
  replicaLoss: 'kill-node',
  storeLoss: 'kill-store',
  lostUpdates: 'concurrent-writes',
  readLatency: 'login-read',
} as const;

const COMPARED_SCENARIOS = new Set<string>([...Object.values(SOURCES), 'imbalance']);

/** Whether the report holds any row the comparison draws on. */
export function hasComparedScenarios(report: Report): boolean {
  return report.results.some((row) => COMPARED_SCENARIOS.has(row.scenario));
}

export function summarize(report: Report, pricing?: Pricing, registry: StrategyRegistry = strategyRegistry): Comparison {
  // One source for the whole column, so that no two rows compare different scenarios.
  const imbalanceFrom = report.results.some((row) => row.scenario === 'imbalance') ? 'imbalance' : 'login-read';
  const strategies = strategyOrder(report).map((strategy) => summarizeStrategy(report, strategy, imbalanceFrom, pricing, registry));
  return { strategies, imbalanceFrom, ...(pricing ? { pricing } : {}) };
}

/** The run's strategies in the order asked for, then any other the rows name. */
export function strategyOrder(report: Report): string[] {
  return [...new Set([...report.settings.strategies, ...report.results.map((row) => row.strategy)])];
}

function summarizeStrategy(report: Report, strategy: string, imbalanceFrom: string, pricing: Pricing | undefined, registry: StrategyRegistry): StrategySummary {
  const row = (scenario: string) => report.results.find((candidate) => candidate.strategy === strategy && candidate.scenario === scenario);
  // What the label stands for is data the report carries (settings.strategyVariants), never parsed from the label.
  const record = report.settings.strategyVariants.find((candidate) => candidate.label === strategy);
  const descriptor = record && registry.named(record.strategy);
  const variant = descriptor?.variants.find((candidate) => candidate.name === record!.variant);
  const { persistence } = (variant && descriptor?.figures?.(variant)) ?? {};
  // A label hactl cannot explain keeps every figure its rows have.
  const hasStore = descriptor ? descriptor.faultTargets.includes('store') : true;
  return {
    strategy,
    ...(record ? { name: record.strategy, variant: record.variant } : {}),
    ...(persistence ? { persistence } : {}),
    hitRate: figure(row(SOURCES.hitRate), (m) => m.hitRate),
    replicaLoss: figure(row(SOURCES.replicaLoss), sessionLoss),
    storeLoss: hasStore ? figure(row(SOURCES.storeLoss), sessionLoss) : { state: 'n/a' },
    lostUpdates: figure(row(SOURCES.lostUpdates), lostUpdates),
    readLatency: figure(row(SOURCES.readLatency), (m) => {
      const read = m.latencyByKind.read;
      return read ? { p50: read.p50, p99: read.p99 } : null;
    }),
    imbalance: figure(row(imbalanceFrom), (m) => m.imbalance),
    imbalanceFrom,
    ...(pricing ? { cost: { monthly: monthlyCost(pricing, descriptor?.name, report.settings.replicas, registry, record?.storeNodes ?? 1), currency: pricing.currency } } : {}),
  };
}

export function figure<T>(row: ResultRow | undefined, read: (metrics: ScenarioMetrics) => T | null): Figure<T> {
  if (!row) return { state: 'not run' };
  // Before the status: an error row may be invalid too (most logins failed), and says more as that.
  if (rowIsInvalid(row)) return { state: 'invalid' };
  if (row.status === 'interrupted') return { state: 'not run' };
  if (row.status !== 'ok') return { state: row.status };
  const value = row.metrics ? read(row.metrics) : null;
  return value === null ? { state: 'no data' } : { state: 'measured', value };
}

function sessionLoss(m: ScenarioMetrics): Loss | null {
  if (m.sessionLoss === null || m.usersLost === null || m.usersWithSession === null) return null;
  return { rate: m.sessionLoss, lost: m.usersLost, of: m.usersWithSession };
}

/** DESIGN.md: acknowledged − kept, over acknowledged. */
function lostUpdates(m: ScenarioMetrics): Loss | null {
  const updates = m.lostUpdates;
  if (!updates || updates.rate === null) return null;
  return { rate: updates.rate, lost: updates.lost, of: updates.acknowledged };
}

// ---------------------------------------------------------------------------------------------
// Cells

export function comparisonHeader(comparison: Comparison): string[] {
  const header = [
    'strategy',
    `hit rate (${SOURCES.hitRate})`,
    `sessions lost, replica killed (${SOURCES.replicaLoss})`,
    `sessions lost, store killed (${SOURCES.storeLoss})`,
    `lost updates (${SOURCES.lostUpdates})`,
    `read p50 / p99 ms (${SOURCES.readLatency})`,
    `busiest replica ÷ mean (${comparison.imbalanceFrom})`,
  ];
  return comparison.pricing ? [...header, `cost per month, ${comparison.pricing.currency}`] : header;
}

export function comparisonCells(summary: StrategySummary): string[] {
  const cells = [
    summary.strategy,
    cell(summary.hitRate, share),
    cell(summary.replicaLoss, lossText),
    cell(summary.storeLoss, lossText),
    cell(summary.lostUpdates, lossText),
    cell(summary.readLatency, (latency) => `${latency.p50.toFixed(2)} / ${latency.p99.toFixed(2)}`),
    cell(summary.imbalance, (imbalance) => imbalance.toFixed(2)),
  ];
  if (summary.cost) cells.push(summary.cost.monthly === null ? 'no price' : summary.cost.monthly.toFixed(2));
  return cells;
}

const STATE_TEXT = { 'not run': '—', skipped: 'skipped', error: 'error', invalid: 'invalid', 'n/a': 'n/a', 'no data': '—' } as const;

function cell<T>(figure: Figure<T>, text: (value: T) => string): string {
  return figure.state === 'measured' ? text(figure.value) : STATE_TEXT[figure.state];
}

function lossText(loss: Loss): string {
  return `${share(loss.rate)} (${loss.lost}/${loss.of})`;
}

/**
 * A fraction as a percentage with one decimal, always: every table column and sentence of a
 * report says `35.0%` and `100.0%`, never `35%` beside `33.3%`. Never rounds to 0.0% or 100.0%
 * what is not exactly that, since "every session" and "none" are the claims a reader takes from those.
 */
export function share(fraction: number): string {
  if (fraction > 0 && fraction < 0.001) return '<0.1%';
  if (fraction < 1 && fraction > 0.999) return '>99.9%';
  return `${(fraction * 100).toFixed(1)}%`;
}

// ---------------------------------------------------------------------------------------------
// The line per strategy

/** One part of the sentence: a verb and its object, and whether it is a strength. */
interface Clause {
  verb: string;
  object: string;
  strength: boolean;
}

/** "**sticky** finds every session (100.0% hits), but loses 33.3% of sessions with a replica; …" */
export function tradeOffLine(summary: StrategySummary): string {
  const clauses = measuredClauses(summary);
  const strengths = clauses.filter((clause) => clause.strength);
  const weaknesses = clauses.filter((clause) => !clause.strength);
  const claim =
    strengths.length > 0 && weaknesses.length > 0 ? `${joinClauses(strengths)}, but ${joinClauses(weaknesses)}` : joinClauses(clauses);
  const details = detailPhrases(summary);
  const missing = notMeasured(summary);
  const name = `**${summary.strategy}**`;
  if (claim === '' && details.length === 0) return missing ? `${name} was not measured: ${missing}.` : `${name}: none of the compared scenarios ran.`;
  const parts = [...details, ...(missing ? [`not measured: ${missing}`] : [])];
  return claim === '' ? `${name}: ${parts.join('; ')}.` : `${name} ${[claim, ...parts].join('; ')}.`;
}

function measuredClauses(s: StrategySummary): Clause[] {
  const clauses: Clause[] = [];
  if (s.hitRate.state === 'measured') {
    const rate = s.hitRate.value;
    clauses.push(rate === 1 ? { verb: 'finds', object: `every session (${share(1)} hits)`, strength: true } : { verb: 'finds', object: `the session in ${share(rate)} of reads`, strength: false });
  }
  if (s.replicaLoss.state === 'measured') {
    const { rate } = s.replicaLoss.value;
    clauses.push(rate === 0 ? { verb: 'keeps every session through', object: 'a replica failure', strength: true } : { verb: 'loses', object: `${share(rate)} of sessions with a replica`, strength: false });
  }
  if (s.storeLoss.state === 'measured') {
    const { rate } = s.storeLoss.value;
    const without = s.persistence === 'none' ? ' without persistence' : '';
    clauses.push(rate === 0 ? { verb: 'keeps every session through', object: 'a store restart', strength: true } : { verb: 'loses', object: `${share(rate)} of sessions when the store restarts${without}`, strength: false });
  }
  if (s.lostUpdates.state === 'measured') {
    const { rate } = s.lostUpdates.value;
    clauses.push(rate === 0 ? { verb: 'keeps', object: 'every concurrent update', strength: true } : { verb: 'loses', object: `${share(rate)} of concurrent updates`, strength: false });
  }
  return clauses;
}

function detailPhrases(s: StrategySummary): string[] {
  const details: string[] = [];
  if (s.readLatency.state === 'measured') details.push(`p99 read ${milliseconds(s.readLatency.value.p99)} ms`);
  if (s.imbalance.state === 'measured') details.push(`requests per replica up to ${s.imbalance.value.toFixed(2)} × the mean`);
  if (s.cost && s.cost.monthly !== null) details.push(`${s.cost.monthly.toFixed(2)} ${s.cost.currency} a month`);
  return details;
}

/** Scenarios whose figures are missing because their rows were skipped, failed or invalid, or undefined. */
function notMeasured(s: StrategySummary): string | undefined {
  const figures: [string, Figure<unknown>][] = [
    [SOURCES.hitRate, s.hitRate],
    [SOURCES.replicaLoss, s.replicaLoss],
    [SOURCES.storeLoss, s.storeLoss],
    [SOURCES.lostUpdates, s.lostUpdates],
    [SOURCES.readLatency, s.readLatency],
    [s.imbalanceFrom, s.imbalance],
  ];
  const missing = new Map<string, string>();
  for (const [scenario, f] of figures) if (f.state === 'skipped' || f.state === 'error' || f.state === 'invalid') missing.set(scenario, f.state);
  if (missing.size === 0) return undefined;
  return [...missing].map(([scenario, state]) => `${scenario} (${state})`).join(', ');
}

/** Consecutive clauses with one verb share it: "loses 33.3% of sessions … and 60.8% of updates". */
export function joinClauses(clauses: readonly Pick<Clause, 'verb' | 'object'>[]): string {
  const groups: { verb: string; objects: string[] }[] = [];
  for (const clause of clauses) {
    const last = groups[groups.length - 1];
    if (last && last.verb === clause.verb) last.objects.push(clause.object);
    else groups.push({ verb: clause.verb, objects: [clause.object] });
  }
  return list(groups.map((group) => `${group.verb} ${list(group.objects)}`));
}

/** "a and b", "a, b and c"; of three or more, a comma before the last "and" when an item has its own "and". */
function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  const serial = items.length > 2 && items.some((item) => item.includes(' and ')) ? ',' : '';
  return `${items.slice(0, -1).join(', ')}${serial} and ${items[items.length - 1]}`;
}

function milliseconds(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}
