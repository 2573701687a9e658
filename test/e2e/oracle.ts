import { expect } from 'vitest';
import type { Report, ResultRow } from '../../src/report/model.js';
import { chooseStrategy, type Strategy } from '../../src/strategies.js';

/**
 * DESIGN.md's table of expected results, as assertions on a report of 3 replicas and 30 users:
 * the oracle both runtimes are held to.
 */
/** The strategy a row label names, from the registry: what the oracle's expectations follow from. */
function strategyOf(label: string): Strategy {
  const choice = chooseStrategy(label);
  expect(choice, `${label} is a strategy hactl knows`).not.toBeTypeOf('string');
  return (choice as Exclude<typeof choice, string>).strategy;
}

/** Sessions in each replica's memory, no balancer pinning the client: a read finds one about 1/R of the time. */
const unpinnedMemory = (strategy: Strategy) => !strategy.store && !strategy.sticky;
/** Sessions in each replica's memory: a killed replica takes its sessions with it. */
const inReplicaMemory = (strategy: Strategy) => !strategy.store;

export function row(report: Report, strategy: string, scenario: string): ResultRow {
  const found = report.results.find((r) => r.strategy === strategy && r.scenario === scenario);
  expect(found, `${strategy} × ${scenario} in the report`).toBeDefined();
  expect(found!.status, `${strategy} × ${scenario}: ${found!.reason ?? ''}`).toBe('ok');
  return found!;
}

export function expectLoginRead(report: Report, strategy: string): void {
  const metrics = row(report, strategy, 'login-read').metrics!;
  if (unpinnedMemory(strategyOf(strategy))) {
    // About 1/R with R = 3.
    expect(metrics.hitRate).toBeGreaterThanOrEqual(0.25);
    expect(metrics.hitRate).toBeLessThanOrEqual(0.45);
    expect(metrics.hitRate! + metrics.missRate!).toBeCloseTo(1, 10);
  } else {
    expect(metrics.hitRate).toBe(1);
    expect(metrics.errors).toBe(0);
    expect(metrics.reads).toBe(300);
  }
}

/**
 * `blackholes`: a killed replica's address stops answering instead of refusing (a container on a
 * bridge network seen from a balancer on the same network), so requests already sent to it wait
 * for the balancer's upstream timeout, as they would for a crashed instance behind ALB.
 */
export function expectKillNode(report: Report, strategy: string, options: { blackholes?: boolean } = {}): void {
  const found = row(report, strategy, 'kill-node');
  const metrics = found.metrics!;
  // A balancer that failed open, or a replica that kept getting requests after it was out, would
  // make every figure below plausible and wrong.
  expect(found.warnings ?? [], `${strategy} × kill-node warnings`).toEqual([]);
  if (inReplicaMemory(strategyOf(strategy))) {
    // The sessions of the killed replica: about 1/R.
    expect(metrics.sessionLoss).toBeGreaterThanOrEqual(0.2);
    expect(metrics.sessionLoss).toBeLessThanOrEqual(0.5);
    expect(metrics.usersWithSession).toBeGreaterThan(20);
    // Re-pinned to a live replica once the dead one is out, its users read no session there (a
    // replica never taken out would keep failing them instead, as errors, never as misses).
    if (strategyOf(strategy).sticky) expect(metrics.phases.find((phase) => phase.name === 'after')!.misses).toBeGreaterThan(0);
  } else {
    expect(metrics.sessionLoss).toBe(0);
    expect(metrics.usersWithSession).toBe(30);
    expect(metrics.hitRate).toBe(1);
  }
  expect(metrics.detectionMs).toBeGreaterThan(0);
  expect(metrics.recovered).toBe(true);
  // Requests fail only while the dead replica is still in rotation, or while requests sent to it
  // before that wait out the balancer's timeouts.
  const grace = options.blackholes ? 5_000 + 1_000 : 1_000;
  expect(metrics.recoveryMs!).toBeLessThanOrEqual(metrics.detectionMs! + grace);
  expect(metrics.phases.find((phase) => phase.name === 'after')!.errors).toBe(0);
}

export function expectCookieSwap(report: Report, strategy: string): void {
  const found = row(report, strategy, 'cookie-swap');
  const finding = (id: string) => found.findings!.find((f) => f.id === id)!;
  // A session id is a bearer token: a stolen cookie reads the victim's data on every strategy.
  expect(finding('stolen-cookie').evidence.readVictimData).toBeGreaterThan(0);
  if (!unpinnedMemory(strategyOf(strategy))) expect(finding('stolen-cookie').evidence.readVictimData).toBe(30);
  expect(finding('forged-id-read')).toMatchObject({ passed: true, evidence: { readsShowingData: 0 } });
  expect(finding('forged-id-adopted')).toMatchObject({ passed: true, evidence: { forgedIds: 30, adopted: 0, freshIdAtLogin: 30 } });
}
