import { CookieJar, type Cookie } from 'tough-cookie';
import type { Exchange } from '../driver.js';
import { classifyRead, type PhaseClient } from '../phase.js';
import { PROXY_ERRORS } from '../replica-identity.js';

/** hactl's balancer's tag on its own 503 when no replica is in service (see balancer/proxy.ts). */
const NO_REPLICA_TAG = 'none';

/**
 * Replaying a session cookie "on every replica", shared by the security checks. A replay carries
 * the session cookie alone: a stickiness cookie (AWSALB) would pin it to one replica, and a copy
 * of the session that only some other replica still holds would go unseen.
 */

/** Replays stop once every replica has answered, but make at least this many reads per replica... */
const MIN_READS_PER_REPLICA = 2;
/** ...and give up on a replica that round robin has not reached after this many per replica. */
const MAX_READS_PER_REPLICA = 8;

/** The session cookie a jar holds, also past its expiry (an attacker keeps what it copied). */
export function sessionCookie(jar: CookieJar, origin: string, name: string): Cookie | undefined {
  return jar.getCookiesSync(origin, { expire: false }).find((cookie) => cookie.key === name);
}

/**
 * A new jar holding only `cookie`, for every replay read: an answer that sets another cookie must
 * not change what the next read presents.
 */
export function jarsHolding(cookie: Cookie, origin: string): () => CookieJar {
  const copy = cookie.toString();
  return () => {
    const jar = new CookieJar();
    jar.setCookieSync(copy, origin);
    return jar;
  };
}

export interface Replay {
  reads: number;
  /** Reads whose answer showed the data the replay must not see. */
  shown: number;
  /** Replicas that answered a read, and those that showed the data. */
  replicas: Set<string>;
  showingReplicas: Set<string>;
  /** Answers that named no replica (no balancer tag, no profile source, or a source that matched nothing). */
  unknownReplica: number;
  /** The names are an app profile's `replica:` source's (the app's own words), not hactl's balancer's tags. */
  fromProfile?: boolean;
}

/**
 * Reads the app's session endpoint presenting only the cookie `jars` hold, at least 2 x replicas
 * times and until every replica has answered (bounded), so that round robin, shared with other
 * users' requests, cannot skip the one replica that still holds a copy. `shows` is asked once per
 * answer.
 */
export async function replay(context: PhaseClient, user: number, jars: () => CookieJar, shows: (exchange: Exchange) => boolean, options: { expiredCookies?: boolean } = {}): Promise<Replay> {
  const all = context.cluster.replicaIds;
  const fromProfile = context.profile.replica !== undefined;
  const result: Replay = { reads: 0, shown: 0, replicas: new Set(), showingReplicas: new Set(), unknownReplica: 0, fromProfile };
  const minimum = MIN_READS_PER_REPLICA * all.length;
  const maximum = MAX_READS_PER_REPLICA * all.length;
  const everyReplicaAnswered = () => result.unknownReplica > 0 || unreached(result.replicas, all, fromProfile).length === 0;
  while (result.reads < maximum && (result.reads < minimum || !everyReplicaAnswered())) {
    context.signal.throwIfAborted();
    let showed = false;
    const exchange = await context.send(jars(), context.profile.read, user, (e) => classifyRead(e, (showed = shows(e))), options);
    result.reads++;
    if (showed) result.shown++;
    if (exchange.replica === null) {
      // No answer, or (under a profile's replica: source) a proxy's own error: no replica gave it.
      const byNoReplica = exchange.status === 0 || (context.profile.replica !== undefined && PROXY_ERRORS.has(exchange.status));
      if (!byNoReplica) result.unknownReplica++;
      continue;
    }
    result.replicas.add(exchange.replica);
    if (showed) result.showingReplicas.add(exchange.replica);
  }
  return result;
}

/** Several users' replays as one. */
export function mergeReplays(replays: readonly Replay[]): Replay {
  const merged: Replay = { reads: 0, shown: 0, replicas: new Set(), showingReplicas: new Set(), unknownReplica: 0 };
  for (const one of replays) {
    merged.reads += one.reads;
    merged.shown += one.shown;
    merged.unknownReplica += one.unknownReplica;
    if (one.fromProfile) merged.fromProfile = true;
    for (const replica of one.replicas) merged.replicas.add(replica);
    for (const replica of one.showingReplicas) merged.showingReplicas.add(replica);
  }
  return merged;
}

/** Which replicas answered, for a finding's evidence; says so when the balancer does not tell. */
export function replicasAnswered(replay: Replay, all: readonly string[]): string {
  if (replay.replicas.size === 0) return replay.unknownReplica > 0 ? "replicas unknown (no answer named its replica; see the app profile's replica: key)" : 'none answered';
  const missing = unreached(replay.replicas, all, replay.fromProfile);
  const named = [...replay.replicas].sort().join(', ');
  return missing.length === 0 ? named : `${named} (never reached: ${missing.join(', ')})`;
}

/** The evidence every replay-based finding carries. */
export function replayEvidence(replay: Replay, all: readonly string[]): Record<string, number | string> {
  return {
    replayReads: replay.reads,
    replaysShowingData: replay.shown,
    replicasAnswered: replicasAnswered(replay, all),
    ...(replay.showingReplicas.size > 0 ? { replicasShowingData: [...replay.showingReplicas].sort().join(', ') } : {}),
  };
}

/** `; on replica-1, replica-3` when replays showed the data, for a finding's summary. */
export function whereShown(replay: Replay): string {
  return replay.showingReplicas.size > 0 ? ` on ${[...replay.showingReplicas].sort().join(', ')}` : '';
}

/** Whether replays reached every replica; a check that missed one has not shown what it claims. */
export function reachedEveryReplica(replay: Replay, all: readonly string[]): boolean {
  return replay.unknownReplica > 0 || unreached(replay.replicas, all, replay.fromProfile).length === 0;
}

/**
 * The replicas of `all` that no answer came from. hactl's balancer tags answers with the
 * cluster's ids, and its own 503 (no replica in service) with `none`, which no replica gave: the
 * missing ids are named. Names from an app profile's `replica:` source (or anything else that is
 * not the cluster's ids) are other words for the same replicas, and only their number can be
 * compared.
 */
export function unreached(seen: ReadonlySet<string>, all: readonly string[], fromProfile = false): string[] {
  const named = fromProfile ? [...seen] : [...seen].filter((name) => name !== NO_REPLICA_TAG);
  if (!fromProfile && named.every((name) => all.includes(name))) return all.filter((replica) => !seen.has(replica));
  const missing = all.length - named.length;
  return missing > 0 ? [`${missing} of ${all.length} replicas`] : [];
}
