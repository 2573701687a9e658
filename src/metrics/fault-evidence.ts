import type { Fault, Sample } from '../driver/records.js';

/**
 * Why a replica fault's figures cannot be trusted, from the row's own records; undefined when
 * they hold together. Two signatures of a balancer that never took the replica out (a health
 * check that was failing on every target from the start, so the balancer failed open; or a
 * fault that did not happen):
 * - detection at 0 ms: no health check notices a death in no time, so the target was already
 *   out (or the balancer said so of every target) before the fault;
 * - requests sent to the replica after it was reported out of rotation (answered by it, or
 *   failed on it): out of rotation means no new requests.
 */
export function suspectFaultEvidence(faults: readonly Fault[], samples: readonly Sample[]): string | undefined {
  const problems: string[] = [];
  for (const fault of faults) {
    const window = outOfRotation(fault);
    if (!window) continue;
    // A fault of the user's command is dated from the samples, and a retrying proxy hides it at once: 0 ms is what users saw.
    if (fault.kind === 'kill-replica' && fault.commands === undefined && fault.detectedAt !== undefined && fault.detectedAt - fault.at <= 0) {
      problems.push(`${fault.target} was reported out of rotation ${Math.round(fault.detectedAt - fault.at)} ms after the kill, before any health check could have noticed`);
    }
    // A deployment's answers may name the killed replica their own way (its upstream address).
    const name = (fault.kind === 'kill-replica' ? fault.detail?.answersAs : undefined) ?? fault.target;
    const after = samples.filter((sample) => sample.replica === name && sample.at > window.from && sample.at < window.to);
    if (after.length > 0) {
      const answered = after.filter((sample) => sample.status > 0 && sample.status < 500).length;
      const statuses = [...new Set(after.map((sample) => sample.status))].sort((a, b) => a - b).slice(0, 5).join(', ');
      problems.push(`${fault.target} still received ${after.length} requests after it was out of rotation (${answered} answered below 500; statuses ${statuses}), from ${Math.round(window.from)} ms`);
    }
  }
  return problems.length > 0 ? `suspect ${faults.some((fault) => fault.kind === 'kill-replica') ? 'failover' : 'restart'} figures: ${problems.join('; ')}` : undefined;
}

/**
 * When the replica must get no new requests: a killed one from its detection on; a restarted
 * one from the end of its drain until it was registered again. Not until hactl heard it was
 * back: hactl learns of that by polling (HAProxy's state every 100 ms, on an event loop the
 * driver keeps busy), so the balancer may route to it a second or more before. A request is
 * stamped when the driver sends it, before the balancer routes it: slack at both ends keeps a
 * request routed just before or just after the change out of the evidence.
 */
function outOfRotation(fault: Fault): { from: number; to: number } | undefined {
  const SLACK_MS = 250;
  if (fault.kind === 'kill-replica' && fault.detectedAt !== undefined) return { from: fault.detectedAt + SLACK_MS, to: fault.endAt === undefined ? Number.POSITIVE_INFINITY : fault.endAt - SLACK_MS };
  if (fault.kind === 'restart-replica' && typeof fault.detail?.drainedMs === 'number' && fault.endAt !== undefined) {
    const registered = typeof fault.detail.registeredMs === 'number' ? fault.at + fault.detail.registeredMs : fault.endAt;
    return { from: fault.at + fault.detail.drainedMs + SLACK_MS, to: Math.min(registered, fault.endAt) - SLACK_MS };
  }
  return undefined;
}
