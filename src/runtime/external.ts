import { EnvironmentError } from '../errors.js';
import { oneNodeStore, type RunningStore, type StoreModule } from '../stores/store.js';
import { pollUntil } from '../time.js';
import { fillReplicaTemplate, replicaId } from '../topology/plan.js';
import { execCommand, FAULT_COMMAND_TIMEOUT_MS, runFaultCommand, type CommandRun } from './fault-command.js';
import { answerOf, answers2xx } from './http-probe.js';
import { checkTarget } from './target-check.js';
import type { Cluster, ClusterControl, CommandFaults, ExternalSettings, FaultCommand, Runtime, RuntimeOptions } from './runtime.js';
import type { RateLimiter } from '../driver/rate-limit.js';

/** The flag that gives each command, for messages. */
const FLAG_OF: Record<FaultCommand, string> = {
  killReplicaCmd: '--kill-replica-cmd',
  startReplicaCmd: '--start-replica-cmd',
  killStoreCmd: '--kill-store-cmd',
  startStoreCmd: '--start-store-cmd',
  verifyCmd: '--verify-cmd',
  storeReadyCmd: '--store-ready-cmd',
};

/** How long hactl waits for a killed store to be back when --fault-timeout does not say. */
const STORE_BACK_DEFAULT_MS = 60_000;

/**
 * How often hactl probes the deployment's health path after a fault. How long it keeps probing is
 * the phase's bound: detectionBoundMs at ALB's timing, since the deployment's own are unknown.
 */
const SETTLE_INTERVAL_MS = 100;

/**
 * A deployment that exists already (a real ALB in front of real replicas): hactl sends traffic
 * to it and starts nothing. Faults happen only through the user's commands; scenarios that need
 * one that was not given, or that need control of the balancer or a fault proxy, are skipped.
 */
export async function createExternalRuntime(options: RuntimeOptions): Promise<Runtime> {
  const settings = options.external;
  if (!settings) throw new EnvironmentError('--runtime external needs --target URL');
  const env = options.env;
  const signal = options.signal;
  const replicaIds = Array.from({ length: options.replicas ?? 1 }, (_, i) => replicaId(i + 1));
  const probe = probeThrough(options.limiter, signal);

  const timeoutMs = settings.faultTimeoutMs ?? FAULT_COMMAND_TIMEOUT_MS;
  // A fault command that fails is an error row; --verify-cmd and --store-ready-cmd answer by their exit.
  const run: Run = (command, template, fields) => {
    const cwd = settings.commandDirs?.[command];
    const polled = command === 'verifyCmd' || command === 'storeReadyCmd';
    // A long fault command is told about as it runs (notices); a polled one runs again and again, briefly.
    const onProgress = polled ? undefined : options.onProgress;
    const commandOptions = { env, timeoutMs, ...(cwd !== undefined ? { cwd } : {}), ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) };
    const line = fillReplicaTemplate(template, { target: settings.target, ...fields });
    return polled ? execCommand(FLAG_OF[command], line, commandOptions) : runFaultCommand(FLAG_OF[command], line, commandOptions);
  };

  return {
    name: 'external',
    unsupported: (control) => unsupported(control, settings),
    checkBalancer: async (kind) =>
      kind === 'hactl' ? { available: true, detail: `the deployment's own balancer at ${settings.target}` } : { available: false, reason: `--balancer ${kind} starts a balancer; --runtime external uses the deployment's own`, fix: 'leave out --balancer' },
    checkStore: async (store) => ({ available: true, detail: `the deployment's own ${store.name}` }),
    startStore: async (store) => externalStore(store, settings, run),
    startStoreProxy: async () => {
      throw new EnvironmentError(unsupported('store-proxy', settings)!);
    },
    // Nothing to start: "started" means the target answers its health path, checked before any fault can be fired at it.
    startCluster: async () => {
      await probe(() => checkTarget(`${settings.target}${settings.healthPath}`, signal ? { signal } : {}));
      return externalCluster(settings, replicaIds, run, timeoutMs, signal, probe);
    },
    close: async () => {},
  };
}

function unsupported(control: ClusterControl, settings: ExternalSettings): string | undefined {
  switch (control) {
    case 'kill-replica':
      return settings.killReplicaCmd ? undefined : 'it kills a replica; with --runtime external give --kill-replica-cmd "COMMAND" ({replica} is filled in)';
    case 'start-replica':
      return settings.killReplicaCmd ? undefined : 'it restarts replicas; with --runtime external give --kill-replica-cmd (and --start-replica-cmd unless the platform restarts them)';
    case 'deregister-replica':
      return "it drains replicas through the balancer, and hactl cannot control the deployment's balancer";
    case 'kill-store':
      return settings.killStoreCmd ? undefined : 'it kills the session store; with --runtime external give --kill-store-cmd "COMMAND"';
    case 'store-proxy':
      return "it puts a fault proxy between the replicas and the store, which hactl can do only in a cluster it started";
  }
}

/**
 * Sends one of hactl's own requests to the deployment (its start check, a health probe): under
 * --rate it waits for a slot of the run's limiter, since the rate holds at the deployment for
 * everything hactl sends it, not only for users' requests.
 */
type Probe = <T>(send: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

function probeThrough(limiter: RateLimiter | undefined, runSignal: AbortSignal | undefined): Probe {
  // A probe nobody can stop still leaves the queue in its turn: the limiter serves waiters in order, at the rate.
  const never = new AbortController().signal;
  return async (send, signal) => (limiter ? limiter.schedule(send, signal ?? runSignal ?? never) : send());
}

type Run = (command: FaultCommand, template: string, fields: Record<string, string>) => Promise<CommandRun>;

/**
 * The deployment's own store: one node whose address hactl does not know, whose faults are the
 * user's commands (--kill-store-cmd, and --start-store-cmd unless the platform restarts it), or
 * none without them. No endpoint either: the deployment's apps know theirs, hactl does not.
 */
function externalStore(store: StoreModule, settings: ExternalSettings, run: Run): RunningStore {
  const none = { signal: '', replica: '', ordinal: '' };
  const killStoreCmd = settings.killStoreCmd;
  return oneNodeStore({
    name: store.name,
    description: `the deployment's own ${store.name} (not started by hactl)`,
    address: { known: false, why: `the deployment's own ${store.name}, which hactl did not start` },
    ...(killStoreCmd
      ? {
          commandFaults: {
            kill: (signal: NodeJS.Signals) => run('killStoreCmd', killStoreCmd, { ...none, signal: signal.replace(/^SIG/, '') }),
            ...(settings.startStoreCmd ? { start: () => run('startStoreCmd', settings.startStoreCmd!, none) } : {}),
            ...(settings.storeReadyCmd ? { ready: () => run('storeReadyCmd', settings.storeReadyCmd!, { ...none, fault: 'kill-store' }) } : {}),
            backWithinMs: settings.faultTimeoutMs ?? STORE_BACK_DEFAULT_MS,
          },
        }
      : {}),
    stop: async () => {},
  });
}

function externalCluster(settings: ExternalSettings, replicaIds: string[], run: Run, timeoutMs: number, signal: AbortSignal | undefined, probe: Probe): Cluster {
  const fields = (replica: string) => ({ replica, ordinal: String(replicaIds.indexOf(replica) + 1), signal: '' });
  const known = (replica: string) => {
    if (!replicaIds.includes(replica)) throw new EnvironmentError(`no replica named ${replica}; --replicas says the deployment has ${replicaIds.length}`);
    return replica;
  };
  const health = `${settings.target}${settings.healthPath}`;
  const noBalancer = async (): Promise<never> => {
    throw new EnvironmentError(unsupported('deregister-replica', settings)!);
  };
  const wanted = 2 * replicaIds.length;
  /**
   * The deployment's balancer cannot be asked about its targets. A change counts as seen once
   * 2 x replicas health probes in a row through it succeed: by then round robin has been offered
   * every replica twice, so a dead one is out of rotation (or back, for a start).
   */
  const healthStreak = async (waitMs: number, waitSignal?: AbortSignal) => {
    let streak = 0;
    const stop = waitSignal ?? signal;
    return pollUntil(
      async () => {
        streak = (await probe(() => answers2xx(health), stop)) ? streak + 1 : 0;
        return streak >= wanted || undefined;
      },
      { timeoutMs: waitMs, intervalMs: SETTLE_INTERVAL_MS, ...(stop ? { signal: stop } : {}), onTimeout: () => new EnvironmentError('timeout') },
    ).then(
      () => true,
      (error: unknown) => {
        stop?.throwIfAborted();
        if (error instanceof EnvironmentError && error.message === 'timeout') return false;
        throw error;
      },
    );
  };
  const shared: CommandFaults = {
    timeoutMs,
    targetProblem: async () => {
      const answer = await probe(() => answerOf(health, 2_000));
      if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) return undefined;
      return `${health} ${answer.status === undefined ? `gave no answer (${answer.excerpt})` : `answered ${answer.status}`} just before the fault: hactl fires no fault at a deployment that is not answering`;
    },
    ...(settings.verifyCmd ? { verify: (fault: 'kill-replica' | 'kill-store', replica?: string) => run('verifyCmd', settings.verifyCmd!, { ...(replica ? fields(replica) : { replica: '', ordinal: '', signal: '' }), fault }) } : {}),
    healthStreak,
  };
  const killCommand = (replica: string, killSignal: NodeJS.Signals) => {
    if (!settings.killReplicaCmd) throw new EnvironmentError(unsupported('kill-replica', settings)!);
    return run('killReplicaCmd', settings.killReplicaCmd, { ...fields(known(replica)), signal: killSignal.replace(/^SIG/, '') });
  };
  return {
    balancerUrl: settings.target,
    replicaIds,
    async killReplica(replica, killSignal) {
      const { startAt } = await killCommand(replica, killSignal);
      return { at: startAt };
    },
    async startReplica(replica) {
      if (settings.startReplicaCmd) await run('startReplicaCmd', settings.startReplicaCmd, fields(known(replica)));
    },
    commandFaults: {
      ...shared,
      kill: killCommand,
      ...(settings.startReplicaCmd ? { start: (replica: string) => run('startReplicaCmd', settings.startReplicaCmd!, fields(known(replica))) } : {}),
    },
    pauseReplica: noBalancer,
    unpauseReplica: noBalancer,
    /** See healthStreak: the only sign of a change hactl has without replica identity. */
    async waitForReplicaHealth(replica, healthy, waitMs, waitSignal) {
      if (!(await healthStreak(waitMs, waitSignal))) {
        throw new EnvironmentError(`${settings.target} did not answer ${settings.healthPath} ${wanted} times in a row within ${waitMs} ms of the fault on ${replica}`);
      }
      return { targetId: known(replica), healthy, at: Date.now() };
    },
    deregisterReplica: noBalancer,
    registerReplica: noBalancer,
    failure: () => undefined,
    stop: async () => {},
  };
}
