import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBalancer, type Balancer } from '../balancer/index.js';
import { EnvironmentError } from '../platform/errors.js';
import type { RunningStore } from '../stores/store.js';
import { balancerSettings, fillReplicaTemplate, replicaEnvironment, replicaFieldsHelp, replicaTemplateValues, type CustomApp, type ReplicaPlan, type Topology } from '../topology/plan.js';
import { freePorts } from '../platform/ports.js';
import { GroupReaper } from '../platform/group-reaper.js';
import { ProcessSupervisor, waitUntilReady, type Supervised } from '../platform/processes.js';
import { assembleCluster, type ReplicaControl } from './cluster.js';
import { stopEach } from '../platform/teardown.js';
import { answers200, healthProbe } from './http-probe.js';
import type { Cluster, Runtime, RuntimeModule, RuntimeOptions } from './runtime.js';
import type { FlagSpec } from '../platform/flag.js';
import { knownAddress, withAddress } from './store-address.js';
import { startLocalFaultProxy } from '../faults/local-proxy.js';

const APP_ENTRY = fileURLToPath(new URL('../app/server.js', import.meta.url));
const REPLICA_READY_TIMEOUT_MS = 15_000;
/** A user's app may start slower than the demo app (a JVM, say). */
const APP_READY_TIMEOUT_MS = 60_000;

/** The local runtime has no settings of its own: everything it needs is the topology's. */
export type LocalSettings = Record<string, never>;

export const APP_CMD_FLAG = {
  key: 'appCmd',
  option: '--app-cmd <command>',
  value: 'text',
  help: `local: start each replica of your app with this shell command; ${replicaFieldsHelp()} are filled in`,
} as const satisfies FlagSpec;

export const localRuntime: RuntimeModule<LocalSettings> = {
  name: 'local',
  flags: [],
  refuseFlags: (given, runtime) => `${given.join(', ')}: apply to --runtime local; this run uses --runtime ${runtime}`,
  app: { flag: APP_CMD_FLAG, usage: '--app-cmd "COMMAND"', runs: 'as a process' },
  traits: { warmUpByDefault: true, logsOutUsers: false, measuresOverhead: true, namesReplicas: true, ownApp: false },
  parse: () => ({}),
  create: createLocalRuntime,
};

/** The default runtime: replicas and stores are child processes of hactl on 127.0.0.1. */
export async function createLocalRuntime(options: RuntimeOptions<LocalSettings>): Promise<Runtime> {
  const runDir = await mkdtemp(path.join(os.tmpdir(), `hactl-${options.runId}-`));
  // No exit handler runs if hactl is SIGKILLed: the watcher that kills its groups then removes this.
  const reaper = new GroupReaper();
  reaper.addDirectory(runDir);
  const supervisor = new ProcessSupervisor(reaper);
  const stopCleaningOnExit = cleanUpOnExit(supervisor, runDir);
  const balancers = new Set<Balancer>();
  const storeContext = { supervisor, runDir, runId: options.runId, env: options.env, signal: options.signal };

  // Node children need no extra CA, and NODE_EXTRA_CA_CERTS costs every start tens of milliseconds.
  const { NODE_EXTRA_CA_CERTS: _unused, ...nodeEnv } = options.env;

  return {
    name: 'local',
    async checkBalancer(kind) {
      if (kind === 'hactl') return { available: true, detail: 'in-process worker thread' };
      const { haproxyAvailability } = await import('../balancer/haproxy/index.js');
      return haproxyAvailability(options.env);
    },
    checkStore: (store) => store.local.check(options.env),
    startStore: (store, storeOptions) => store.local.start(storeContext, storeOptions),
    async startStoreProxy(node) {
      const upstream = knownAddress(node);
      const proxy = await startLocalFaultProxy(supervisor, { upstream, env: nodeEnv, signal: options.signal });
      return { url: withAddress(upstream.url, proxy.host, proxy.port), setToxic: (toxic) => proxy.control.setToxic(toxic), stop: proxy.stop };
    },
    async startCluster(topology, store) {
      const ports = await freePorts(topology.replicas.length);
      const started = await Promise.allSettled(
        topology.replicas.map((plan, i) => startReplica(plan, ports[i]!, topology, store, supervisor, options)),
      );
      const replicas = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) {
        await Promise.all(replicas.map((replica) => replica.process.stop()));
        throw failed.reason;
      }
      let balancer: Balancer;
      try {
        const settings = balancerSettings(
          topology,
          { host: '127.0.0.1', port: topology.balancer.port },
          replicas.map((replica) => ({ id: replica.plan.id, host: '127.0.0.1', port: replica.port })),
        );
        balancer =
          topology.balancer.kind === 'haproxy'
            ? await (await import('../balancer/haproxy/index.js')).startHaproxyBalancer(settings, { supervisor, runDir, signal: options.signal })
            : await startBalancer(settings);
      } catch (error) {
        await Promise.all(replicas.map((replica) => replica.process.stop()));
        throw error;
      }
      balancers.add(balancer);
      const startBoundMs = topology.app.custom ? (topology.app.custom.startupTimeoutMs ?? APP_READY_TIMEOUT_MS) : REPLICA_READY_TIMEOUT_MS;
      return localCluster(balancer, replicas, () => balancers.delete(balancer), startBoundMs);
    },
    async close() {
      // Every step whatever the ones before did: a balancer that would not stop must not leave the
      // processes running or the run directory behind.
      const failures = await stopEach([
        { what: 'the balancers', stop: () => Promise.all([...balancers].map((balancer) => balancer.stop())) },
        { what: 'the processes', stop: () => supervisor.stopAll() },
        {
          what: 'the run directory',
          stop: async () => {
            stopCleaningOnExit();
            await rm(runDir, { recursive: true, force: true, maxRetries: 3 });
            reaper.forgetDirectory(runDir);
          },
        },
        { what: 'the group reaper', stop: () => reaper.close() },
      ]);
      if (failures.length > 0) throw new EnvironmentError(failures.join('; '));
    },
  };
}

interface LocalReplica {
  plan: ReplicaPlan;
  port: number;
  process: Supervised;
  /** Starts the replica's process (again), on the same port, and waits until it answers. */
  launch(): Promise<Supervised>;
}

function localCluster(balancer: Balancer, replicas: LocalReplica[], forget: () => void, startBoundMs: number): Cluster {
  const controls = new Map<string, ReplicaControl>(
    replicas.map((replica) => [
      replica.plan.id,
      {
        kill: async (signal) => void (await replica.process.kill(signal)),
        async start() {
          if (!replica.process.hasExited()) throw new EnvironmentError(`${replica.plan.id} is still running`);
          replica.process = await replica.launch();
        },
        pause: async () => replica.process.signalGroup('SIGSTOP'),
        unpause: async () => replica.process.signalGroup('SIGCONT'),
      },
    ]),
  );
  return assembleCluster(
    balancer,
    controls,
    async () => {
      await balancer.stop();
      forget();
      await Promise.all(replicas.map((r) => r.process.stop()));
    },
    startBoundMs,
  );
}

async function startReplica(
  plan: ReplicaPlan,
  port: number,
  topology: Topology,
  store: RunningStore | undefined,
  supervisor: ProcessSupervisor,
  options: RuntimeOptions<LocalSettings>,
): Promise<LocalReplica> {
  const custom = topology.app.custom;
  if (custom?.command !== undefined) return startCommandReplica(plan, port, topology, { ...custom, command: custom.command }, store, supervisor, options);
  // NODE_EXTRA_CA_CERTS costs every Node start tens of milliseconds; the demo app needs no CA.
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = options.env;
  const url = `http://127.0.0.1:${port}/health`;
  const launch = async () =>
    waitUntilReady(
      await supervisor.spawn(`demo app ${plan.id}`, process.execPath, [APP_ENTRY], {
        env: { ...env, ...replicaEnvironment(topology, plan, { host: '127.0.0.1', port }, store?.endpoints.app?.url, store?.endpoints.reader?.url) },
        // The IPC channel lets a replica notice that hactl is gone and exit with it.
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      }),
      () => answers200(url),
      { what: `${plan.id} (${url})`, timeoutMs: REPLICA_READY_TIMEOUT_MS, intervalMs: 20, signal: options.signal },
    );
  return { plan, port, process: await launch(), launch };
}

/**
 * A replica of the user's app: their command under a shell, in a process group of its own so
 * that a kill takes everything it started. Ready once the profile's health path answers 2xx.
 */
async function startCommandReplica(
  plan: ReplicaPlan,
  port: number,
  topology: Topology,
  app: CustomApp & { command: string },
  store: RunningStore | undefined,
  supervisor: ProcessSupervisor,
  options: RuntimeOptions<LocalSettings>,
): Promise<LocalReplica> {
  const listen = { host: '127.0.0.1', port };
  const values = replicaTemplateValues(topology, plan, listen, store?.endpoints.app?.url, [], undefined, store?.endpoints.reader?.url);
  const command = fillReplicaTemplate(app.command, values);
  const appEnv = Object.fromEntries(Object.entries(app.env).map(([key, value]) => [key, fillReplicaTemplate(value, values)]));
  const url = `http://127.0.0.1:${port}${app.healthPath}`;
  const launch = async () => {
    const health = healthProbe(url);
    const timeoutMs = app.startupTimeoutMs ?? APP_READY_TIMEOUT_MS;
    return waitUntilReady(
      await supervisor.spawn(`app ${plan.id} (${command})`, '/bin/sh', ['-c', command], {
        env: { ...options.env, PORT: String(port), HOST: listen.host, HACTL_REPLICA_ID: plan.id, ...appEnv },
        ...(app.cwd !== undefined ? { cwd: app.cwd } : {}),
        wholeGroup: true,
      }),
      health.probe,
      { what: `${plan.id} (${command}; health ${url})`, timeoutMs, intervalMs: 50, signal: options.signal, lastProbe: health.last },
    );
  };
  return { plan, port, process: await launch(), launch };
}

/**
 * If hactl exits without tearing down (a second Ctrl-C, the teardown deadline, an uncaught
 * error), its children die with it and the run directory (PostgreSQL's data, say) goes too.
 */
function cleanUpOnExit(supervisor: ProcessSupervisor, runDir: string): () => void {
  const onExit = () => {
    supervisor.killAllNow();
    rmSync(runDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  return () => process.off('exit', onExit);
}
