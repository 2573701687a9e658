import type { CountVariables } from './count.js';
import type { Scenario } from './scenario.js';
import type { Cluster } from '../runtime/runtime.js';
import type { AppProfile } from './app-profile.js';
import { classifyAction, Driver } from './driver.js';
import { runInOrder } from './order.js';
import type { HealthCheckSettings } from '../balancer/settings.js';
import type { RunningStore } from '../stores/store.js';
import { countsInHitRate, missingRequestFindings, phaseClient, type PhaseRecords, type ScenarioScope, type StoreFaults } from './phase.js';
import type { CounterRecord, FailoverRecord, Fault, Finding, LoginRecord, ReplicaReadsRecord, Sample } from './records.js';
import { createRng, type Rng } from './rng.js';
import { makeUsers } from './users.js';
import type { CookieJar } from 'tough-cookie';
import { logOutSessions, type LogoutResult } from './logout.js';
import { logIn } from './login-flow.js';
import type { RateLimiter } from '../platform/rate-limit.js';
import { countStoreEntries, storeUnused } from '../stores/usage.js';
import { errorMessage, StoreUnusedError } from '../platform/errors.js';
import { restoreReplicas } from './phases/command-faults.js';

export interface ScenarioRunInput {
  scenario: Scenario;
  cluster: Cluster;
  profile: AppProfile;
  counts: CountVariables;
  concurrency: number;
  seed: number;
  requestTimeoutMs: number;
  signal: AbortSignal;
  store?: RunningStore;
  storeFaults?: StoreFaults;
  balancer: { healthCheck: HealthCheckSettings; deregistrationDelayMs: number };
  /** The idle timeout the app runs with, when known. */
  idleTimeoutSeconds?: number;
  /** Told how the scenario is going after every request and at every phase (live progress). */
  onActivity?(activity: ScenarioActivity): void;
  /** Throwaway users log in and read before the phases (default on). */
  warmUp?: boolean;
  /** --rate: the run's limiter, shared by every driver of the run. */
  limiter?: RateLimiter;
  /** --id-sample: the id-quality check's logins, over the scenario's own figure. */
  idSample?: number;
  /** --replication-delay: what a phase that delays a replicated store's replication puts on its links. */
  replicationDelayMs?: number;
  /**
   * Log out every session the scenario made once its phases are done (or it failed), and tell
   * how that went: --runtime external with a profile that has a logout request.
   */
  onLogouts?(result: LogoutResult): void;
  /** Told what the run leaves broken when it is stopped mid-scenario (a replica or store the user's commands killed). */
  onNotice?(message: string): void;
  /** Told, per replica the user's commands killed and hactl could not see back, why: whatever became of the scenario. */
  onNotRestored?(problems: readonly string[]): void;
}

/** How far a scenario has got: its current phase, requests so far, and how its users' reads are faring. */
export interface ScenarioActivity {
  phase: string;
  requests: number;
  /** Users' reads of their own session that got an answer, and the hits among them. */
  answeredReads: number;
  hits: number;
}

export interface ScenarioRecords {
  samples: Sample[];
  faults: Fault[];
  findings: Finding[];
  counters: CounterRecord[];
  logins: LoginRecord[];
  failovers: FailoverRecord[];
  replicaReads: ReplicaReadsRecord[];
}

/**
 * Runs a scenario's phases in order against a cluster. Users and every phase's request order come
 * from the seed and the scenario and phase names alone, so every strategy of a run (and every
 * run with the same seed) sees the same users sending in the same order.
 */
export async function runScenario(input: ScenarioRunInput): Promise<ScenarioRecords> {
  const { scenario, signal } = input;
  const rng = createRng(input.seed);
  const users = makeUsers(input.counts.users, rng.fork(`users:${scenario.name}`), input.profile.accounts);
  const warmUpOn = input.warmUp !== false;
  const activity: ScenarioActivity = { phase: warmUpOn ? 'warm-up' : (scenario.phases[0]?.name ?? ''), requests: 0, answeredReads: 0, hits: 0 };
  // Every jar of the scenario's that got a cookie, when its sessions are to be logged out at the end.
  const jars = input.onLogouts && input.profile.logout ? new Set<CookieJar>() : undefined;
  const shared = { ...(input.limiter ? { limiter: input.limiter } : {}), ...(jars ? { jars } : {}) };
  const ownReads = new Set(scenario.phases.filter((phase) => countsInHitRate(phase.unit)).map((phase) => phase.name));
  const driver = new Driver(input.cluster.balancerUrl, {
    scenario: scenario.name,
    concurrency: input.concurrency,
    requestTimeoutMs: input.requestTimeoutMs,
    signal,
    ...(input.profile.replica ? { replica: input.profile.replica } : {}),
    ...shared,
    ...(input.onActivity
      ? {
          onSample: (sample: Sample) => {
            activity.requests++;
            if (ownReads.has(sample.phase) && sample.outcome !== 'error') {
              activity.answeredReads++;
              if (sample.outcome === 'hit') activity.hits++;
            }
            input.onActivity!(activity);
          },
        }
      : {}),
  });
  const records: PhaseRecords = { faults: [], findings: [], counters: [], logins: [], failovers: [], replicaReads: [] };
  const { faults } = records;
  const scope: ScenarioScope = {
    scenario: scenario.name,
    users,
    driver,
    cluster: input.cluster,
    profile: input.profile,
    counts: input.counts,
    concurrency: input.concurrency,
    rng,
    records,
    ...(input.store ? { store: input.store } : {}),
    ...(input.storeFaults ? { storeFaults: input.storeFaults } : {}),
    balancer: input.balancer,
    ...(input.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: input.idleTimeoutSeconds } : {}),
    ...(input.idSample !== undefined ? { idSample: input.idSample } : {}),
    ...(input.replicationDelayMs !== undefined ? { replicationDelayMs: input.replicationDelayMs } : {}),
    signal,
  };
  // Asked once, after the first login phase: the rest of the scenario may empty the store on purpose.
  let storeChecked = false;
  try {
    input.onActivity?.(activity);
    if (warmUpOn) await warmUp(input, rng.fork(`warm-up:${scenario.name}`), shared);
    for (const phase of scenario.phases) {
      signal.throwIfAborted();
      activity.phase = phase.name;
      input.onActivity?.(activity);
      // A check the profile lacks a request for is n/a, said as its findings; the scenario goes on.
      const notApplicable = missingRequestFindings(phase.unit, input.profile);
      if (notApplicable.length > 0) {
        records.findings.push(...notApplicable);
        continue;
      }
      const checksStore = phase.unit.kind === 'login' && input.store !== undefined && !storeChecked;
      const before = checksStore ? await countStoreEntries(input.store!) : 0;
      await phase.run(phaseClient(scope, { name: phase.name, kind: phase.unit.kind }));
      if (checksStore) {
        storeChecked = true;
        const answered = driver.samples.filter((sample) => sample.phase === phase.name && sample.status >= 200 && sample.status < 400).length;
        const unused = storeUnused(input.store!, answered, before, await countStoreEntries(input.store!));
        if (unused) throw new StoreUnusedError(unused);
      }
    }
  } finally {
    // A deployment is left as it was found: replicas the user's commands killed are started again,
    // whatever became of the scenario, unless the run is being torn down.
    if (!signal.aborted) {
      const notRestored = await restoreReplicas({ driver, profile: input.profile, cluster: input.cluster, faults, signal }).catch((error: unknown) => [`restoring the killed replicas failed: ${errorMessage(error)}`]);
      if (notRestored.length > 0) input.onNotRestored?.(notRestored);
    } else if (input.cluster.commandFaults) {
      // Stopped mid-scenario: nothing more is sent to the deployment, but the user hears what it is left with.
      for (const left of leftBroken(faults)) input.onNotice?.(left);
    }
    await driver.close();
    // After a failure too (best effort, bounded); not when the run is being stopped.
    if (jars && !signal.aborted) {
      activity.phase = 'logout';
      input.onActivity?.(activity);
      input.onLogouts!(
        await logOutSessions({
          origin: input.cluster.balancerUrl,
          profile: input.profile,
          jars,
          concurrency: input.concurrency,
          requestTimeoutMs: input.requestTimeoutMs,
          ...(input.limiter ? { limiter: input.limiter } : {}),
          signal,
        }),
      );
    }
  }
  return { samples: driver.samples, ...records };
}

/** Faults of the user's commands a stopped run did not undo: a killed replica not started again, a store not seen back. */
function leftBroken(faults: readonly Fault[]): string[] {
  return faults.flatMap((fault) => {
    if (fault.kind !== 'kill-replica' && fault.kind !== 'kill-store') return [];
    const started = fault.commands?.some((run) => run.flag === '--start-replica-cmd' || run.flag === '--start-store-cmd');
    // `commands` is set as a kill command starts; a run it was cut short in is not recorded in it.
    if (fault.kind === 'kill-replica' && fault.commands !== undefined && !started && fault.endAt === undefined) {
      return [`stopped after ${fault.target} was killed by --kill-replica-cmd: hactl did not start it again (--start-replica-cmd), so the deployment may be short of it`];
    }
    if (fault.kind === 'kill-store' && fault.commands !== undefined && fault.backAt === undefined) {
      return [`stopped after the store was killed by --kill-store-cmd and before it was seen back: check the deployment's ${fault.target}`];
    }
    return [];
  });
}

/** Logins and reads per replica, by throwaway users, before anything is measured. */
export const WARM_UP_CYCLES_PER_REPLICA = 20;

/**
 * Replicas start cold: the first requests of a fresh Node process run unoptimised code and open
 * connections, and would show up as login latency. Throwaway users log in and read through the
 * balancer first, on a driver whose samples are discarded; the scenario's users are untouched.
 */
async function warmUp(input: ScenarioRunInput, rng: Rng, shared: { limiter?: RateLimiter; jars?: Set<CookieJar> }): Promise<void> {
  const driver = new Driver(input.cluster.balancerUrl, {
    scenario: 'warm-up',
    concurrency: input.concurrency,
    requestTimeoutMs: input.requestTimeoutMs,
    signal: input.signal,
    ...shared,
  });
  const users = makeUsers(WARM_UP_CYCLES_PER_REPLICA * input.counts.replicas, rng, input.profile.accounts);
  const meta = { phase: 'warm-up', kind: 'warm-up' };
  try {
    await runInOrder(
      users.map((user) => ({
        user: user.index,
        run: async () => {
          await logIn(input.profile.login, user.identity, user.jar, driver.origin, (request) => driver.send(user.jar, request, { ...meta, user: user.index }, classifyAction));
          await driver.send(user.jar, input.profile.read, { ...meta, user: user.index }, classifyAction);
        },
      })),
      input.concurrency,
      input.signal,
    );
  } finally {
    await driver.close();
  }
}
