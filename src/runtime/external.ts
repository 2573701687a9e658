import { EnvironmentError } from '../errors.js';
import type { RunningStore, StoreModule } from '../stores/store.js';
import { pollUntil } from '../time.js';
import { fillReplicaTemplate, replicaId } from '../topology/plan.js';
import { runFaultCommand } from './fault-command.js';
import { answers2xx } from './http-probe.js';
import { checkTarget } from './target-check.js';
import type { Cluster, ClusterControl, ExternalSettings, FaultCommand, Runtime, RuntimeOptions } from './runtime.js';

/** The flag that gives each command, for messages. */
const FLAG_OF: Record<FaultCommand, string> = {
  killReplicaCmd: '--kill-replica-cmd',
  startReplicaCmd: '--start-replica-cmd',
  killStoreCmd: '--kill-store-cmd',
  startStoreCmd: '--start-store-cmd',
};

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

  const run = (command: FaultCommand, template: string, fields: Record<string, string>) => {
    const cwd = settings.commandDirs?.[command];
    return runFaultCommand(FLAG_OF[command], fillReplicaTemplate(template, { target: settings.target, ...fields }), { env, ...(cwd !== undefined ? { cwd } : {}), ...(signal ? { signal } : {}) });
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
      await checkTarget(`${settings.target}${settings.healthPath}`, signal ? { signal } : {});
      return externalCluster(settings, replicaIds, run, signal);
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

type Run = (command: FaultCommand, template: string, fields: Record<string, string>) => Promise<void>;

function externalStore(store: StoreModule, settings: ExternalSettings, run: Run): RunningStore {
  const refuse = async () => {
    throw new EnvironmentError(`hactl cannot pause the deployment's ${store.name}`);
  };
  return {
    name: store.name,
    url: '',
    description: `the deployment's own ${store.name} (not started by hactl)`,
    restartable: settings.killStoreCmd !== undefined,
    async kill(signal) {
      if (!settings.killStoreCmd) throw new EnvironmentError(unsupported('kill-store', settings)!);
      await run('killStoreCmd', settings.killStoreCmd, { signal: signal.replace(/^SIG/, ''), replica: '', ordinal: '' });
    },
    // Without a start command the platform brings the store back; the scenario's reads wait for it.
    restart: async () => (settings.startStoreCmd ? run('startStoreCmd', settings.startStoreCmd, { signal: '', replica: '', ordinal: '' }) : undefined),
    pause: refuse,
    unpause: refuse,
    stop: async () => {},
  };
}

function externalCluster(settings: ExternalSettings, replicaIds: string[], run: Run, signal: AbortSignal | undefined): Cluster {
  const fields = (replica: string) => ({ replica, ordinal: String(replicaIds.indexOf(replica) + 1), signal: '' });
  const known = (replica: string) => {
    if (!replicaIds.includes(replica)) throw new EnvironmentError(`no replica named ${replica}; --replicas says the deployment has ${replicaIds.length}`);
    return replica;
  };
  const health = `${settings.target}${settings.healthPath}`;
  const noBalancer = async (): Promise<never> => {
    throw new EnvironmentError(unsupported('deregister-replica', settings)!);
  };
  return {
    balancerUrl: settings.target,
    replicaIds,
    async killReplica(replica, killSignal) {
      if (!settings.killReplicaCmd) throw new EnvironmentError(unsupported('kill-replica', settings)!);
      const at = Date.now();
      await run('killReplicaCmd', settings.killReplicaCmd, { ...fields(known(replica)), signal: killSignal.replace(/^SIG/, '') });
      return { at };
    },
    async startReplica(replica) {
      if (settings.startReplicaCmd) await run('startReplicaCmd', settings.startReplicaCmd, fields(known(replica)));
    },
    pauseReplica: noBalancer,
    unpauseReplica: noBalancer,
    /**
     * The deployment's balancer cannot be asked about its targets. A change counts as seen once
     * 2 x replicas health probes in a row through it succeed: by then round robin has been offered
     * every replica twice, so a dead one is out of rotation (or back, for `healthy`).
     */
    async waitForReplicaHealth(replica, healthy, timeoutMs, waitSignal) {
      let streak = 0;
      const wanted = 2 * replicaIds.length;
      await pollUntil(
        async () => {
          streak = (await answers2xx(health)) ? streak + 1 : 0;
          return streak >= wanted || undefined;
        },
        {
          timeoutMs,
          intervalMs: SETTLE_INTERVAL_MS,
          ...((waitSignal ?? signal) ? { signal: (waitSignal ?? signal)! } : {}),
          onTimeout: () => new EnvironmentError(`${settings.target} did not answer ${settings.healthPath} ${wanted} times in a row within ${timeoutMs} ms of the fault on ${replica}`),
        },
      );
      return { targetId: known(replica), healthy, at: Date.now() };
    },
    deregisterReplica: noBalancer,
    registerReplica: noBalancer,
    failure: () => undefined,
    stop: async () => {},
  };
}
