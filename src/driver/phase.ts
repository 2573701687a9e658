import { z } from 'zod';
import type { NodeChoice } from '../stores/node-choice.js';
import { CountSyntaxError, parseCount, type CountExpression, type CountVariables } from './count.js';
import type { Cluster, ClusterControl } from '../runtime/runtime.js';
import type { AppProfile, HttpRequest, Identity, OptionalRequest } from './app-profile.js';
import { isError, type Driver, type Exchange } from './driver.js';
import type { HealthCheckSettings, HealthDirection } from '../balancer/settings.js';
import type { Toxic } from '../faults/toxics.js';
import type { RunningStore } from '../stores/store.js';
import type { CounterRecord, FailoverRecord, Fault, LoginRecord, Outcome, RecordedFinding, ReplicaReadsRecord, Sample } from './records.js';
import { hasRequest } from './app-profile.js';
import type { FindingId } from './findings.js';
import type { Rng } from './rng.js';
import type { VirtualUser } from './users.js';
import type { CookieJar } from 'tough-cookie';

/**
 * What stays the same for every phase of a scenario: its users, its driver, the cluster and store
 * it may act on, and the records its phases add to. The runner builds it once; each phase gets a
 * PhaseClient over it.
 */
export interface ScenarioScope {
  scenario: string;
  users: readonly VirtualUser[];
  driver: Driver;
  cluster: Cluster;
  profile: AppProfile;
  counts: CountVariables;
  concurrency: number;
  /** The scenario's generator: each phase forks its own from it, by the scenario's and the phase's names. */
  rng: Rng;
  records: PhaseRecords;
  /** The strategy's store server, when it has one. */
  store?: RunningStore;
  /** The fault proxy between replicas and store, when the scenario asked for one. */
  storeFaults?: StoreFaults;
  /** The balancer's timing, which bounds how long waiting for it may take. */
  balancer: { healthCheck: HealthCheckSettings; deregistrationDelayMs: number };
  /** The idle timeout the app runs with (the scenario's for the demo app, the profile's otherwise), when known. */
  idleTimeoutSeconds?: number;
  /** --id-sample: how many logins the id-quality check makes, over its scenario's own figure. */
  idSample?: number;
  /** --replication-delay: the latency a replica-lag phase puts on a replicated store's replication links. */
  replicationDelayMs?: number;
  signal: AbortSignal;
}

/** What a scenario's phases leave behind, beside the driver's samples. */
export interface PhaseRecords {
  faults: Fault[];
  findings: RecordedFinding[];
  counters: CounterRecord[];
  /** Every login of the scenario's login phases, failed or not. */
  logins: LoginRecord[];
  /** Store failovers, with the writes around them. */
  failovers: FailoverRecord[];
  /** Reads through a replicated store's reader endpoint after each write (replica-reads), one record per phase. */
  replicaReads: ReplicaReadsRecord[];
}

/**
 * Everything a phase may use, bound to that phase: what it sends as a user is recorded as its
 * sample (its name and kind), paced by the run's limiter and stopped by the run's signal. Phases
 * talk to the cluster only through this.
 */
export interface PhaseClient extends Omit<ScenarioScope, 'driver' | 'records' | 'rng'>, PhaseRecords {
  phase: string;
  kind: string;
  /** This phase's generator (forked from the scenario's by its name): the same order every run. */
  rng: Rng;
  /** Sends `request` with `jar` as `user`, recorded as a sample of this phase. */
  send(jar: CookieJar, request: HttpRequest, user: number, classify: (exchange: Exchange) => Outcome, options?: SendOptions): Promise<Exchange>;
  /** A read of the app's session endpoint by `jar`, judged against `owner`'s identity. */
  read(user: number, jar: CookieJar, owner: Identity, options?: { expiredCookies?: boolean }): Promise<Exchange>;
  /** The balancer's origin, which the session cookies are scoped to. */
  readonly origin: string;
  /** The scenario's samples so far, every phase's. */
  readonly samples: readonly Sample[];
  /** Milliseconds since the scenario started. */
  now(): number;
  /** An epoch time (as the balancer reports events) in scenario time. */
  fromEpoch(epochMs: number): number;
  /** When the oldest request still in flight was sent, if any is. */
  oldestInFlightAt(): number | undefined;
  /** A driver of its own whose samples are no sample of the row: a control user, probes. Closed by the caller. */
  fork(name: string): Driver;
}

export interface SendOptions {
  /** Send the session cookie even after the browser would have dropped it (expiry checks). */
  expiredCookies?: boolean;
  /** Recorded under another phase name and kind than the phase's own: a step apart from its figures (a read-back after it). */
  as?: { phase: string; kind: string };
}

/** The client of one phase of the scenario. */
export function phaseClient(scope: ScenarioScope, phase: { name: string; kind: string }): PhaseClient {
  const { driver, records, rng, ...shared } = scope;
  const client: PhaseClient = {
    ...shared,
    ...records,
    phase: phase.name,
    kind: phase.kind,
    rng: rng.fork(`${scope.scenario}:${phase.name}`),
    // One small meta object per request, as before: the driver copies its fields into the sample.
    send: (jar, request, user, classify, options) => driver.send(jar, request, { phase: options?.as?.phase ?? phase.name, kind: options?.as?.kind ?? phase.kind, user }, classify, options),
    read: (user, jar, owner, options) => client.send(jar, scope.profile.read, user, (exchange) => classifyRead(exchange, scope.profile.isHit(exchange.status, exchange.body, owner)), options),
    origin: driver.origin,
    get samples() {
      return driver.samples;
    },
    now: () => driver.now(),
    fromEpoch: (epochMs) => driver.fromEpoch(epochMs),
    oldestInFlightAt: () => driver.oldestInFlightAt(),
    fork: (name) => driver.fork(name),
  };
  return client;
}

/** Toxics on the connections between replicas and store (see src/faults/). */
export interface StoreFaults {
  setToxic(toxic: Toxic | undefined): Promise<void>;
}

/**
 * One kind of step in a scenario (`login`, `read`, `kill-replica`, ...): its options schema
 * and what it does. The scenario runner looks units up by kind and never switches on names.
 */
export interface PhaseUnit<Options = unknown> {
  kind: string;
  description: string;
  options: z.ZodType<Options>;
  /** Its requests are users reading their own session: they make the row's hit rate, and can measure session loss. */
  ownSessionReads?: boolean;
  /**
   * Users read their own sessions during it only while the user's fault commands run (a cluster
   * with commandFaults): those reads count in the hit rate, but the phase, which sends nothing
   * when hactl makes the fault itself, can measure no session loss.
   */
  readsDuringFault?: boolean;
  /** It acts on the session store (kill it, put a fault proxy in front): strategies without one skip the scenario. */
  needsStore?: boolean;
  /** It needs the fault proxy between replicas and store. */
  needsStoreProxy?: boolean;
  /** It reads through the store's reader endpoint (a replica): a replicated store without one skips the scenario. */
  needsStoreReader?: boolean;
  /** What it does to the cluster beyond sending requests: a runtime that cannot do one skips the scenario. */
  controls?: readonly ClusterControl[];
  /** Requests of the app profile it sends beyond login and read: a profile without them skips the scenario (but see `check`). */
  needsRequests?: readonly OptionalRequest[];
  /**
   * It is one of its scenario's independent checks, and records these findings: a profile that
   * lacks one of its needsRequests skips this phase alone, its findings n/a with the reason
   * (missingRequestFindings), and the scenario's other checks still run.
   */
  check?: { findings: readonly { id: FindingId; title: string }[] };
  /**
   * A wait for the balancer to change a target's health, and the scenario's own bound on it if it
   * set one: checked at load against the balancer's detection bound (detectionBoundMs).
   */
  balancerWait?(options: Options): { direction: HealthDirection; timeoutMs?: number } | undefined;
  /** Reads each user makes in this phase, when it makes a fixed number (for session-loss checks). */
  readsPerUser?(options: Options, counts: CountVariables): number | undefined;
  /** The store node it acts on (`node:`, `role:`), for phases that act on one: checked at load against each store's nodes. */
  storeNode?(options: Options): NodeChoice;
  /** Whether it needs a replicated store (replication links to delay): a strategy with a one-node store skips the scenario. */
  needsReplication?(options: Options): boolean;
  run(context: PhaseClient, options: Options): Promise<void>;
}

/** What is known of a phase unit without its options: its kind, and what it needs of the run. */
export type PhaseTraits = Omit<PhaseUnit, 'options' | 'balancerWait' | 'readsPerUser' | 'storeNode' | 'needsReplication' | 'run'>;

/**
 * A scenario's phase: a unit bound to the options parsed for it. The options live only inside
 * these closures, so the runner cannot hand a unit another unit's options; that `run` gets its
 * own is checked where the binding is made (definePhase).
 */
export interface ScenarioPhase {
  name: string;
  unit: PhaseTraits;
  run(context: PhaseClient): Promise<void>;
  balancerWait(): { direction: HealthDirection; timeoutMs?: number } | undefined;
  readsPerUser(counts: CountVariables): number | undefined;
  /** The store node the phase acts on, when it acts on one. */
  storeNode(): NodeChoice | undefined;
  needsReplication(): boolean;
}

/** A unit as registered: it parses a phase's options and binds itself to them. */
export interface RegisteredPhaseUnit extends PhaseTraits {
  bind(name: string, raw: unknown): { success: true; phase: ScenarioPhase } | { success: false; issues: readonly { path: readonly PropertyKey[]; message: string }[] };
}

export function definePhase<Options>(unit: PhaseUnit<Options>): PhaseUnit<Options> & RegisteredPhaseUnit {
  return {
    ...unit,
    bind(name, raw) {
      const parsed = unit.options.safeParse(raw);
      if (!parsed.success) return { success: false, issues: parsed.error.issues };
      const options = parsed.data;
      return {
        success: true,
        phase: {
          name,
          unit,
          run: (context) => unit.run(context, options),
          balancerWait: () => unit.balancerWait?.(options),
          readsPerUser: (counts) => unit.readsPerUser?.(options, counts),
          storeNode: () => unit.storeNode?.(options),
          needsReplication: () => unit.needsReplication?.(options) ?? false,
        },
      };
    },
  };
}

/** Whether a phase's requests are users' reads of their own sessions, which make the row's hit rate. */
export function countsInHitRate(unit: Pick<PhaseUnit, 'ownSessionReads' | 'readsDuringFault'>): boolean {
  return unit.ownSessionReads === true || unit.readsDuringFault === true;
}

/** A count option: an integer or an expression such as `4 * replicas`, checked at load. */
export const count = z.union([z.number(), z.string()]).transform((source, context): CountExpression => {
  try {
    return parseCount(source);
  } catch (error) {
    context.issues.push({ code: 'custom', input: source, message: error instanceof CountSyntaxError ? error.message : String(error) });
    return z.NEVER;
  }
});

export function evaluateCount(expression: CountExpression, counts: CountVariables): number {
  return Math.max(0, Math.floor(expression(counts)));
}

export function classifyRead(exchange: Exchange, hit: boolean): Outcome {
  if (isError(exchange)) return 'error';
  return hit ? 'hit' : 'miss';
}

/**
 * The findings of a check phase the profile lacks a request for: each n/a (passed: null) with
 * the reason, as renderers and expectations show any check that could not be made. Empty when
 * the phase can run, or is no check (a scenario whose core needs the request is skipped whole).
 */
export function missingRequestFindings(unit: PhaseTraits, profile: AppProfile): RecordedFinding[] {
  const missing = unit.check ? unit.needsRequests?.find((request) => !hasRequest(profile, request)) : undefined;
  if (missing === undefined) return [];
  return unit.check!.findings.map(({ id, title }) => ({ id, title, passed: null, summary: `${missing}: the profile has no ${missing} request`, evidence: { missingRequest: missing } }));
}
