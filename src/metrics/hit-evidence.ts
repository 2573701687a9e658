import type { Sample } from '../driver/records.js';

/** How unlikely chance must make it: below one in a million for the hit rate's lowest expectation. */
const CHANCE = 1e-6;

/**
 * Why a row whose reads never once satisfied the hit predicate measures the profile, not the
 * strategy; undefined when that could be chance. Every strategy serves a user's own session at
 * least on the replica that logged it in, so behind round robin at least one read in R hits; a
 * row with enough answered reads and no hit at all is a predicate that cannot hold (a JSON path
 * the app never answers, a status it never sends). The misses' statuses are the evidence.
 */
export function noHitEvidence(reads: number, hitRate: number | null, replicas: number, misses: readonly Sample[]): string | undefined {
  if (hitRate !== 0 || reads === 0) return undefined;
  // (1 - 1/R)^reads < CHANCE: fewer reads could all miss by chance on per-replica memory.
  const needed = replicas <= 1 ? 1 : Math.ceil(Math.log(CHANCE) / Math.log(1 - 1 / replicas));
  if (reads < needed) return undefined;
  const byStatus = new Map<number, number>();
  for (const sample of misses) byStatus.set(sample.status, (byStatus.get(sample.status) ?? 0) + 1);
  const statuses = [...byStatus].sort((a, b) => b[1] - a[1]).map(([status, count]) => `${status} ×${count}`).join(', ');
  return (
    `no read of the ${reads} answered satisfied the profile's hit predicate (statuses: ${statuses}), though even per-replica memory behind round robin hits one read in ${replicas}: ` +
    `the predicate cannot hold for this app, so these figures measure the profile; check read.hit against an answer (hactl check shows one)`
  );
}
