import type { FaultCommandRun } from '../platform/fault-command.js';
/** What a scenario leaves behind: samples, faults and findings. The report is computed from these. */
import type { FindingId } from './findings.js';
import type { KillReplicaFault } from './phases/kill-replica.js';
import type { KillStoreFault } from './phases/kill-store.js';
import type { RestartReplicaFault } from './phases/restart-replicas.js';
import type { StoreToxicFault } from './phases/store-fault.js';

/** `hit`/`miss` for reads; `ok`/`rejected` for other requests; `error` is no answer or a 5xx. */
export type Outcome = 'hit' | 'miss' | 'ok' | 'rejected' | 'error';

export interface Sample {
  scenario: string;
  phase: string;
  /** The phase's kind (`login`, `read`, ...), which the report groups latencies by. */
  kind: string;
  user: number;
  /** The replica that answered: hactl's balancer's x-hactl-replica tag, or the app profile's replica: source; null when the answer named none. */
  replica: string | null;
  /** HTTP status; 0 when no answer came. */
  status: number;
  latencyMs: number;
  outcome: Outcome;
  /** Milliseconds since the scenario started: when the request was sent, and when it completed. */
  at: number;
  end: number;
  /** Why no answer came (ECONNREFUSED, timeout, ...). */
  error?: string;
}

/**
 * One user's login in a login phase, and whether it gave the user a session. A failed login is
 * the app refusing or the profile being wrong (a CSRF token it did not send, a cookie name the
 * app does not use), not the strategy losing a session: the report counts it apart.
 */
export interface LoginRecord {
  user: number;
  /** Milliseconds since the scenario started: when the answer came (or the request gave up). */
  end: number;
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** Why the user has no session after it (`answered 403`, ...); absent when the login worked. */
  failure?: string;
  /** The start of a failed login's answer body: what the app said. */
  body?: string;
}

/**
 * What a scenario broke, one variant per kind of fault, each declared by the phase unit that makes
 * it. Code that reads faults switches on `kind`; a new kind of fault is a new variant here.
 */
export type Fault = KillReplicaFault | RestartReplicaFault | KillStoreFault | StoreToxicFault;
export type FaultKind = Fault['kind'];

/** What every fault records. */
export interface FaultBase {
  target: string;
  /** Milliseconds since the scenario started. */
  at: number;
  /** When the fault was undone (the store restarted, the toxic removed, the replica back in rotation). */
  endAt?: number;
}

/**
 * What a fault of the user's command records (--runtime external), where hactl did not do the
 * fault itself and found its moment, and whether it happened, from what users saw.
 */
export interface CommandEvidence {
  /** The user's commands run for this fault, in order. */
  commands?: FaultCommandRun[];
  /** How `at` (the moment the fault took effect) was found. */
  effect?: 'first-failure' | 'replica-gone' | 'command-start';
  /** false: hactl did not see the fault take effect, so the figures after it are no result. */
  observed?: boolean;
  /** What was seen: how the fault was verified, or why it was not. One sentence. */
  observation?: string;
}

/** How a fault of the user's command was judged: whether it took effect, and why hactl thinks so. */
export type FaultVerdict = Required<Pick<CommandEvidence, 'observed' | 'observation'>>;

/** The kinds of fault the user's commands can make (--runtime external). */
export type CommandFault = KillReplicaFault | KillStoreFault;

/** Records whether a fault of the user's command took effect. */
export function recordVerdict(fault: CommandFault, verdict: FaultVerdict): void {
  fault.observed = verdict.observed;
  fault.observation = verdict.observation;
}

/** Dates a fault of the user's command by when it took effect, and says how that was found. */
export function recordEffect(fault: CommandFault, moment: { at: number; effect: NonNullable<CommandEvidence['effect']> }): void {
  fault.at = moment.at;
  fault.effect = moment.effect;
}

/** The command evidence of a fault, empty for a fault hactl made itself. */
export function commandEvidence(fault: Fault): CommandEvidence {
  return fault.kind === 'kill-replica' || fault.kind === 'kill-store' ? fault : {};
}

/** When the balancer took the fault's target out of rotation, for a fault it detects (a killed replica), once it did. */
export function detectedAt(fault: Fault): number | undefined {
  return fault.kind === 'kill-replica' ? fault.detectedAt : undefined;
}

/** A fault's variant by kind, narrowing an array filter: `faults.filter(isFault('kill-replica'))`. */
export function isFault<K extends FaultKind>(kind: K): (fault: Fault) => fault is Extract<Fault, { kind: K }> {
  return (fault): fault is Extract<Fault, { kind: K }> => fault.kind === kind;
}

const STORE_TOXIC_KINDS: Record<StoreToxicFault['kind'], true> = { 'store-latency': true, 'store-timeout': true, 'store-reset_peer': true, 'store-down': true };

/** A toxic put between the replicas and the store (store-fault). */
export function isStoreToxicFault(fault: Fault): fault is StoreToxicFault {
  return Object.hasOwn(STORE_TOXIC_KINDS, fault.kind);
}

export type { FaultCommandRun };

/** One user's counter after concurrent increments: what the app acknowledged, and what it kept. */
export interface CounterRecord {
  user: number;
  acknowledged: number;
  /** The highest value any replica reported afterwards; null when no read answered. */
  final: number | null;
}

/** One session write of a store failover: a user's increment, sent one at a time. */
export interface WriteRecord {
  user: number;
  /** Milliseconds since the scenario started: sent, and answered (or given up). */
  at: number;
  end: number;
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** The counter after it, when the answer says so (the profile's counter value path, read from the increment's answer). */
  value?: number;
}

/** One user's session after a store failover: still there, and its counter. */
export interface FinalRecord {
  user: number;
  /** Read back (true), gone after 2 x replicas answered reads (false), or unread: its reads got no answer or a 5xx (null). */
  session: boolean | null;
  /** The counter the user read; null when no read answered with one. */
  counter: number | null;
}

/** A store failover as a phase saw it: the kill, the writes around it, the store's steps, and what was left. */
export interface FailoverRecord {
  /** The node killed, and when (scenario milliseconds). */
  node: string;
  at: number;
  /** How the store fails over; absent for a store of one node, which only restarts. */
  failover?: {
    decidedBy: 'hactl' | 'sentinel' | 'election';
    mode: 'async' | 'sync';
    profile: string;
    timings: string;
    /** Each step from the kill on, in scenario milliseconds. */
    events: Array<{ at: number; kind: string; node: string; detail?: string }>;
    /** Steps taken before the kill, during the phase (a primary too slow to answer its checks was replaced): present only then. */
    eventsBeforeKill?: Array<{ at: number; kind: string; node: string; detail?: string }>;
    /** Bytes (or, MongoDB, ms) each replica was behind just before the kill. */
    lagBeforeKill: Array<{ node: string; bytes: number | null; ms?: number | null }>;
    mostPrimariesAtOnce: number;
  };
  /** The latency put on the replication links during the writes, if any. */
  replicationDelayMs?: number;
  /** For a variant whose app makes writes synchronous (Redis WAIT): how many times apps asked the primary to wait during the writes before the kill. */
  syncRequests?: number;
  writes: WriteRecord[];
  finals: FinalRecord[];
}

/** One read of a user's session through the store's reader endpoint, right after the user's write. */
export interface ReplicaReadRecord {
  user: number;
  /** Milliseconds since the scenario started: sent, and answered (or given up). */
  at: number;
  end: number;
  /** The counter the user's writes had been acknowledged up to when the read was sent. */
  acknowledged: number;
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** The counter the replica showed; null when its answer held none (no such session there). */
  value: number | null;
}

/** One part of replica-reads: writes to the primary, each followed by a read through the reader endpoint. */
export interface ReplicaReadsRecord {
  phase: string;
  /** The latency on the replication links meanwhile; 0 without. */
  replicationDelayMs: number;
  /** The replica the reader endpoint reached. */
  reader: string;
  /** Writes sent, and those acknowledged (2xx with the counter): each acknowledged one is followed by a read. */
  writes: number;
  writesAcknowledged: number;
  reads: ReplicaReadRecord[];
}

/**
 * A security observation with its evidence. `passed` is null for a fact expected on every
 * strategy (`fact: true`, such as a stolen cookie working), or for a check that could not be
 * made or proved nothing (the summary says why).
 */
export interface Finding {
  id: string;
  title: string;
  passed: boolean | null;
  fact?: true;
  summary: string;
  evidence: Record<string, number | string>;
}

/** A finding as a phase records it: its id is one of FINDINGS, which config files may name. */
export type RecordedFinding = Finding & { id: FindingId };

/** Answers that say "no session" when they carry no counter: 2xx and 3xx (a redirect to the login page), 401, 403, 404, 410. */
const NO_SESSION_STATUSES = new Set([401, 403, 404, 410]);

/**
 * A read judged for read-your-writes: one whose answer can say the session is there or not. Other
 * 4xx (a 429, a CSRF 422, a 400) say nothing of the replica and are counted with the errors, never
 * as a session missing.
 */
export const judgedReplicaRead = (read: Pick<ReplicaReadRecord, 'status'>) => (read.status >= 200 && read.status < 400) || NO_SESSION_STATUSES.has(read.status);
