/**
 * What users' samples say about a fault hactl did not make itself (the user's command did):
 * whether it took effect, when, and when the balancer stopped sending to the replica. Pure:
 * samples in, moments (scenario time) out.
 */
import type { CommandEvidence, Sample } from './records.js';
import type { KillReplicaFault } from './phases/kill-replica.js';

/** An answer that names the replica that gave it (`none`: hactl's balancer had no target to give it to). */
function named(sample: Sample): sample is Sample & { replica: string } {
  return sample.replica !== null && sample.replica !== 'none';
}

/** What hactl knew of replica identity before a fault: the names answers carried, and whether the fault's target was among them. */
export interface IdentityView {
  /** Some answer named the replica that gave it. */
  known: boolean;
  /** The fault's target answered under its own name: its disappearance can be seen. */
  targetSeen: boolean;
  names: string[];
}

export function identityBefore(samples: readonly Sample[], until: number, target: string): IdentityView {
  const answered = samples.filter((sample) => sample.end <= until && sample.outcome !== 'error');
  const namedAnswers = answered.filter(named);
  const names = [...new Set(namedAnswers.map((sample) => sample.replica))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  // Known only when answers name their replica as a rule: a source that names few of them (a
  // stickiness cookie set once per session) cannot show a replica leaving the answers.
  const known = names.length > 0 && 2 * namedAnswers.length >= answered.length;
  return { known, targetSeen: known && names.includes(target), names: known ? names : [] };
}

/** Why identity cannot tell whether the killed replica left the answers, or undefined when it can. */
export function identityGap(identity: IdentityView): string | undefined {
  return identity.known ? undefined : 'hactl cannot see which replica answers (most answers name none): give the app profile a replica: source that names every answer, or --verify-cmd';
}

/**
 * The names among which the killed replica's is: its own when answers used it; else (answers
 * name replicas their own way, such as nginx's upstream address) every name seen before the
 * command, the killed one being the one that disappears.
 */
export function candidateNames(identity: IdentityView, target: string): string[] {
  return identity.targetSeen ? [target] : identity.names;
}

/** The killed replica's state in the answers to requests sent after the kill command ended. */
export type ReplicaVerdict =
  | { verdict: 'gone'; name: string; answers: number }
  | { verdict: 'answered'; names: string[]; answers: number }
  | { verdict: 'ambiguous'; names: string[]; answers: number }
  | undefined;

/**
 * How long after its kill command returned a replica may still answer: a platform's stop call
 * (ecs stop-task, kubectl delete --wait=false) returns a moment before the process is gone.
 */
export const KILL_SETTLE_MS = 2_000;

/** How unlikely it must be that a live replica is missing from the verdict's answers by chance. */
const GONE_CHANCE = 1e-4;

/**
 * How many answers the verdict looks at: enough that a live replica gets none of them with
 * probability under GONE_CHANCE even when the balancer picks at random ((1 - 1/R)^n, 23 for 3
 * replicas), and at least 2 x replicas (round robin offers each twice).
 */
export function answersToJudge(replicas: number): number {
  if (replicas <= 1) return 2;
  return Math.max(2 * replicas, Math.ceil(Math.log(GONE_CHANCE) / Math.log(1 - 1 / replicas)));
}

/**
 * One judgement, on one window: the first `count` answers that name a replica, to requests sent
 * `settleMs` or more after the command ended, once nothing sent before the last of them is still
 * in flight. The killed replica (one candidate, or the one of several names seen before the
 * kill) among them: `answered`, the fault did not happen; missing from them: `gone`; several
 * names missing: `ambiguous`. Undefined until the window is complete. Judged once on a fixed
 * window, not again and again on a sliding one, which would sooner or later find a live replica
 * missing from some run of answers by chance.
 */
export function replicaVerdict(
  samples: readonly Sample[],
  candidates: readonly string[],
  commandEnd: number,
  count: number,
  options: { settleMs?: number; oldestInFlight?: number } = {},
): ReplicaVerdict {
  const from = commandEnd + (options.settleMs ?? KILL_SETTLE_MS);
  const window = samples
    .filter((sample) => sample.at >= from && named(sample))
    .sort((a, b) => a.at - b.at)
    .slice(0, count);
  if (window.length < count) return undefined;
  if (options.oldestInFlight !== undefined && options.oldestInFlight <= window[count - 1]!.at) return undefined;
  const answering = new Set(window.map((sample) => sample.replica));
  const missing = candidates.filter((name) => !answering.has(name));
  if (missing.length === 1) return { verdict: 'gone', name: missing[0]!, answers: window.length };
  if (missing.length > 1) return { verdict: 'ambiguous', names: missing, answers: window.length };
  const answers = candidates.length === 1 ? window.filter((sample) => sample.replica === candidates[0]).length : window.length;
  return { verdict: 'answered', names: [...candidates], answers };
}

/** The name answers gave the killed replica, once known: its own, or the one that disappeared (`detail.answersAs`). */
export function answeringName(fault: KillReplicaFault, samples: readonly Sample[]): string | undefined {
  if (fault.detail?.answersAs !== undefined) return fault.detail.answersAs;
  return identityBefore(samples, fault.commands?.[0]?.startAt ?? fault.at, fault.target).targetSeen ? fault.target : undefined;
}

/**
 * The moment the fault took effect, from the samples since the command started: the first
 * failure (when it was sent, not before the command), or the end of the killed replica's last
 * answer (when its identity is known), whichever is earlier. `command-start` when neither shows.
 */
export function effectMoment(
  samples: readonly Sample[],
  commandStart: number,
  options: { target?: string; failed?: (sample: Sample) => boolean; until?: number },
): { at: number; effect: NonNullable<CommandEvidence['effect']> } {
  const failed = options.failed ?? ((sample: Sample) => sample.outcome === 'error');
  const until = options.until ?? Number.POSITIVE_INFINITY;
  const since = samples.filter((sample) => sample.end >= commandStart && sample.at <= until);
  let firstFailure = Number.POSITIVE_INFINITY;
  for (const sample of since) if (failed(sample)) firstFailure = Math.min(firstFailure, Math.max(sample.at, commandStart));
  let gone = Number.POSITIVE_INFINITY;
  if (options.target !== undefined) {
    gone = commandStart;
    for (const sample of since) if (sample.replica === options.target) gone = Math.max(gone, sample.end);
  }
  if (firstFailure === Number.POSITIVE_INFINITY && gone === Number.POSITIVE_INFINITY) return { at: commandStart, effect: 'command-start' };
  return firstFailure <= gone ? { at: firstFailure, effect: 'first-failure' } : { at: gone, effect: 'replica-gone' };
}

/**
 * Whether the last `wanted` requests sent since `from` were all answered (no error) by replicas
 * other than `target`: the balancer has taken it out, and what was failing no longer does.
 */
export function cleanRun(samples: readonly Sample[], target: string, from: number, wanted: number): boolean {
  let run = 0;
  for (let i = samples.length - 1; i >= 0 && run < wanted; i--) {
    const sample = samples[i]!;
    if (sample.at < from) continue;
    if (sample.outcome === 'error' || !named(sample) || sample.replica === target) return false;
    run++;
  }
  return run >= wanted;
}

/**
 * When the killed replica got its last traffic, seen from users: when the last request was sent
 * that it answered, or that failed with no other replica naming itself (with identity known, a
 * failure that names no replica is a request sent to the dead one), from the fault's moment until
 * `until`. The send, not the answer: a proxy that retries a refused connection for seconds
 * answers late a request it routed at once. Never before the fault's moment. Undefined when no
 * request after the fault's moment went to it: a proxy that retries hid every attempt on the dead
 * replica, so when it took the replica out cannot be seen (a 0 would be an artefact, not a time).
 */
export function detectionMoment(samples: readonly Sample[], target: string, at: number, until: number): number | undefined {
  let last: number | undefined;
  for (const sample of samples) {
    // An answer that ended at the fault's moment is the replica's last one, which dated it.
    if (sample.end <= at || sample.at > until) continue;
    const toTarget = sample.replica === target || (sample.outcome === 'error' && !named(sample));
    if (toTarget) last = Math.max(last ?? at, sample.at, at);
  }
  return last;
}

/**
 * For a store fault: a request that shows the store gone. An error, or a miss of a user whose
 * own reads hit before the command (an app that fails closed answers 401, not 5xx).
 */
export function storeFailure(samples: readonly Sample[], commandStart: number): (sample: Sample) => boolean {
  const hitBefore = new Set(samples.filter((sample) => sample.end <= commandStart && sample.outcome === 'hit').map((sample) => sample.user));
  return (sample) => sample.outcome === 'error' || (sample.outcome === 'miss' && hitBefore.has(sample.user));
}
