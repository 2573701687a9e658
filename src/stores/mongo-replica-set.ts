import { UsageError } from '../platform/errors.js';
import type { FailoverEvent, FailoverTimings, ReplicaLag, ReplicationOptions, StoreNodePlan } from './store.js';

/**
 * The pure half of `mongo:replica-set`: its members, the replica set's config and the URL apps
 * are given, and what hactl reads from the members' answers (who is primary, how far behind the
 * others are, which failover steps MongoDB took). The processes are mongo-replication.ts's.
 */

/**
 * MongoDB's own election, timed two ways. MongoDB, not hactl, decides: a secondary that has not
 * heard from the primary for `electionTimeoutMillis` calls an election. In FailoverTimings' terms
 * the members' heartbeats are the checks and the election timeout is that many of them; there is
 * no endpoint to move (the driver follows the election itself), so no switch delay.
 */
export const MONGO_FAILOVER_TIMINGS: Record<ReplicationOptions['profile'], FailoverTimings> = {
  fast: { profile: 'fast', checkIntervalMs: 200, unhealthyThreshold: 5, switchDelayMs: 0, source: 'test speed: heartbeatIntervalMillis 200, electionTimeoutMillis 1000, so an election within about a second and a half' },
  aws: {
    profile: 'aws',
    checkIntervalMs: 2_000,
    unhealthyThreshold: 5,
    switchDelayMs: 0,
    source: "MongoDB's defaults (heartbeatIntervalMillis 2000, electionTimeoutMillis 10000), which Atlas keeps: an election within about 12 s, inside DocumentDB's \"under 30 s\" to a replica",
  },
};

/** The replica set's `settings` that make MongoDB's election follow `timings`. */
export function electionSettings(timings: FailoverTimings): { heartbeatIntervalMillis: number; electionTimeoutMillis: number } {
  return { heartbeatIntervalMillis: timings.checkIntervalMs, electionTimeoutMillis: timings.checkIntervalMs * timings.unhealthyThreshold };
}

/**
 * The members, as every runtime plans them: node-1 is the one the set is initiated on and the
 * primary the plan expects; the running store's roles follow what the members say.
 */
export function replicaSetNodes(replication: ReplicationOptions): readonly StoreNodePlan[] {
  // Checked where nodes are planned, before anything starts: a set that cannot fail over would measure nothing.
  if (replication.replicas < 2) {
    throw new UsageError(`--store-replicas ${replication.replicas}: a MongoDB replica set of ${1 + replication.replicas} members cannot elect a primary once one is killed (an election needs a majority of all members); give 2 or more`);
  }
  return Array.from({ length: 1 + replication.replicas }, (_, i) => ({ id: `node-${i + 1}`, role: i === 0 ? 'primary' : 'replica' }));
}

/** `w` as the app's driver states it: `async` acknowledges on the primary alone, `sync` once a majority has the write. */
export function writeConcernOf(mode: ReplicationOptions['mode']): '1' | 'majority' {
  return mode === 'sync' ? 'majority' : '1';
}

export interface Member {
  id: string;
  host: string;
  port: number;
}

/**
 * What replSetInitiate is given. Every member has the same priority (1, the default): a member
 * with a higher one would take the primary back by an election of its own once it rejoined, a
 * second failover the scenario never asked for.
 */
export function replicaSetConfig(setName: string, members: readonly Member[], timings: FailoverTimings) {
  return {
    _id: setName,
    members: members.map((member, i) => ({ _id: i, host: `${member.host}:${member.port}` })),
    settings: electionSettings(timings),
  };
}

/**
 * The app's endpoint: every member, the set's name (so the driver discovers the primary and
 * follows elections itself, as it does with DocumentDB's cluster endpoint) and the write concern,
 * which any app's driver reads from the URL.
 */
export function replicaSetUrl(setName: string, members: readonly Member[], database: string, mode: ReplicationOptions['mode']): string {
  const hosts = members.map((member) => `${member.host}:${member.port}`).join(',');
  return `mongodb://${hosts}/${database}?replicaSet=${encodeURIComponent(setName)}&w=${writeConcernOf(mode)}`;
}

/** One member alone, as hactl asks it (never the set: a member must answer for itself). */
export function memberUrl(member: Member): string {
  return `mongodb://${member.host}:${member.port}/?directConnection=true`;
}

/** replSetGetStatus's myState and members[].state codes hactl acts on. */
export const MEMBER_STATE = { PRIMARY: 1, SECONDARY: 2 } as const;

export interface MemberStatus {
  /** host:port, as the set's config names the member. */
  name: string;
  state: number;
  stateStr: string;
  /** 1 when the member answering could reach it. */
  health: number;
  /** When the member's last applied write was made on the primary (epoch ms); null when not reported. */
  appliedAt: number | null;
}

export interface SetStatus {
  myState: number;
  members: MemberStatus[];
}

/**
 * replSetGetStatus's answer, as far as hactl reads it. `lastAppliedWallTime` (MongoDB 4.4.? and
 * later, millisecond wall-clock times) is preferred to `optimeDate`, which has whole seconds only.
 * Undefined when the answer is not a replica set's status.
 */
export function parseSetStatus(answer: unknown): SetStatus | undefined {
  if (!isRecord(answer) || typeof answer.myState !== 'number' || !Array.isArray(answer.members)) return undefined;
  const members: MemberStatus[] = [];
  for (const raw of answer.members as unknown[]) {
    if (!isRecord(raw) || typeof raw.name !== 'string' || typeof raw.state !== 'number') continue;
    members.push({
      name: raw.name,
      state: raw.state,
      stateStr: typeof raw.stateStr === 'string' ? raw.stateStr : String(raw.state),
      health: typeof raw.health === 'number' ? raw.health : 0,
      appliedAt: epochOf(raw.lastAppliedWallTime) ?? epochOf(raw.optimeDate),
    });
  }
  return { myState: answer.myState, members };
}

/**
 * How far each reachable secondary is behind the primary, from the primary's own status: the
 * primary's last write's time minus the secondary's last applied one's, in ms. MongoDB counts no
 * bytes, so `bytes` is null and `ms` says it. Undefined without a primary in the status.
 */
export function lagFromStatus(status: SetStatus, idOf: (name: string) => string | undefined): ReplicaLag[] | undefined {
  const primary = status.members.find((member) => member.state === MEMBER_STATE.PRIMARY);
  if (!primary) return undefined;
  const lags: ReplicaLag[] = [];
  for (const member of status.members) {
    const id = idOf(member.name);
    if (member === primary || id === undefined || member.health !== 1) continue;
    const ms = primary.appliedAt !== null && member.appliedAt !== null && member.state === MEMBER_STATE.SECONDARY ? Math.max(0, primary.appliedAt - member.appliedAt) : null;
    lags.push({ node: id, bytes: null, ms });
  }
  return lags;
}

/** One poll of one member: whether hactl runs it, and what it said about itself (undefined: no answer). */
export interface MemberPoll {
  id: string;
  running: boolean;
  answer?: {
    /** replSetGetStatus's myState: 1 primary, 2 secondary. */
    myState: number;
    /** hello's isWritablePrimary: it takes writes now (an elected primary still catching up does not). */
    writable: boolean;
  };
}

export interface WatchState {
  /** The member hactl last knew as primary. */
  primary: string;
  /** Whether its loss was recorded already (once per failover). */
  down: boolean;
}

/**
 * The failover steps one poll shows, given what was known before: `primary-down` once the known
 * primary stops answering (or answers as something else), `promoted` once another member says it
 * is primary, which it only is once the others elected it. `writable` counts the running members
 * that take writes at once: above 1 is split brain.
 */
export function watchStep(state: WatchState, polls: readonly MemberPoll[]): { state: WatchState; steps: Array<Omit<FailoverEvent, 'at'>>; writable: number } {
  const steps: Array<Omit<FailoverEvent, 'at'>> = [];
  const writable = polls.filter((poll) => poll.running && poll.answer?.writable === true).length;
  let next = { ...state };
  const current = polls.find((poll) => poll.id === state.primary);
  const stillPrimary = current?.running === true && current.answer?.myState === MEMBER_STATE.PRIMARY;
  // A primary that answers as one again was slow, not down: its next loss is a new one.
  if (stillPrimary) next = { ...next, down: false };
  if (!stillPrimary && !next.down) {
    steps.push({ kind: 'primary-down', node: state.primary, detail: current?.running && current.answer ? `answers as state ${current.answer.myState}, no longer primary` : 'stopped answering' });
    next = { ...next, down: true };
  }
  const elected = polls.find((poll) => poll.id !== state.primary && poll.running && poll.answer?.myState === MEMBER_STATE.PRIMARY);
  if (elected && !stillPrimary) {
    steps.push({ kind: 'promoted', node: elected.id, detail: `replaces ${state.primary}` });
    next = { primary: elected.id, down: false };
  }
  return { state: next, steps, writable };
}

function epochOf(value: unknown): number | null {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
