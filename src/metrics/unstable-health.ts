import type { HealthChange } from '../balancer/health-tracker.js';
import type { Fault } from '../driver/records.js';

/**
 * Replicas the balancer took out of rotation while no fault of the scenario was on them: their
 * users' requests went elsewhere meanwhile, so a hit rate or a session loss then describes an
 * unstable cluster (health checks slower than their timeout on an overloaded machine, an app that
 * stalls), not the strategy. A row with a store fault is left alone: an app whose health path
 * asks its store fails its checks then by design. Times are from `since`, the row's start.
 */
export function unstableHealth(changes: readonly HealthChange[], faults: readonly Fault[], replicaIds: readonly string[], since: number): string | undefined {
  if (faults.some((fault) => !replicaIds.includes(fault.target))) return undefined;
  const faulted = new Set(faults.map((fault) => fault.target));
  const spells: string[] = [];
  for (const [i, change] of changes.entries()) {
    if (change.healthy || change.at < since || faulted.has(change.targetId) || !replicaIds.includes(change.targetId)) continue;
    const back = changes.slice(i + 1).find((later) => later.targetId === change.targetId && later.healthy);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    spells.push(`${change.targetId} at ${seconds(change.at - since)}${back ? ` for ${seconds(back.at - change.at)}` : ', not back by the end'}`);
  }
  if (spells.length === 0) return undefined;
  return (
    `the balancer took replicas out of rotation that no fault touched (${spells.join('; ')}): their users' requests went to other replicas meanwhile, ` +
    'so hit rate and session loss describe a cluster that was not stable; the usual cause is an overloaded machine (health checks slower than their timeout) or an app that stalls'
  );
}
