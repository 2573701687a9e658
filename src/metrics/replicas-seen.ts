import type { Fault, FaultKind, Sample } from '../driver/records.js';

/** The replicas named in a row's answers, with their request counts (`none`, hactl's balancer's tag for no replica, is none). */
export function replicasSeen(samples: readonly Sample[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const sample of samples) {
    if (sample.replica !== null && sample.replica !== 'none') seen.set(sample.replica, (seen.get(sample.replica) ?? 0) + 1);
  }
  return new Map([...seen].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
}

const LISTED = 8;

/** Faults after which a replica may come back as a new process, pod or address. */
const REPLACED: Partial<Record<FaultKind, string>> = { 'kill-replica': 'killed', 'restart-replica': 'restarted' };

/**
 * Why the replicas named in a row's answers are not the deployment's --replicas, when their
 * number differs; undefined when it matches or no answer named a replica (identity unknown,
 * said elsewhere). Counted over the whole row: a killed replica answered before its kill, so a
 * kill is no reason to see fewer. Only for names that are not hactl's own balancer's (the app's
 * or its proxy's words): those could name something other than a replica, where the balancer
 * names its own targets, and a target that got nothing already shows as imbalance.
 */
export function replicasSeenMessage(samples: readonly Sample[], expected: number, faults: readonly Fault[]): string | undefined {
  const seen = replicasSeen(samples);
  if (seen.size === 0 || seen.size === expected) return undefined;
  const named = [...seen].slice(0, LISTED).map(([name, count]) => `${name} ${count}`).join(', ') + (seen.size > LISTED ? `, and ${seen.size - LISTED} more` : '');
  const replaced = [...new Set(faults.flatMap((fault) => (Object.hasOwn(REPLACED, fault.kind) ? [`${REPLACED[fault.kind]} ${fault.target}`] : [])))];
  const why =
    seen.size > expected
      ? 'the replica source may name something other than the replica that answered (a proxy hop, an address or pod name that changes), or --replicas is wrong' +
        (replaced.length > 0 ? `; this row ${replaced.join(' and ')}, and a replica that comes back under a new name counts as another` : '')
      : "a replica answered none of the row's requests (the balancer never routed to it), two replicas share one name, or --replicas is wrong";
  return `answers named ${seen.size} distinct replica${seen.size === 1 ? '' : 's'} (requests: ${named}) where --replicas says ${expected}: ${why}; imbalance and per-replica figures count the ${seen.size} seen`;
}
