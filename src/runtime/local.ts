import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBalancer, type Balancer } from '../balancer/index.js';
import { EnvironmentError } from '../errors.js';
import type { RunningStore } from '../stores/store.js';
import { balancerSettings, replicaEnvironment, type ReplicaPlan, type Topology } from '../topology/plan.js';
import { freePorts } from './ports.js';
import { ProcessSupervisor, waitUntilReady, type Supervised } from './processes.js';
import { assembleCluster, type ReplicaControl } from './cluster.js';
import { answers200 } from './http-probe.js';
import type { Cluster, Runtime, RuntimeOptions } from './runtime.js';

const APP_ENTRY = fileURLToPath(new URL('../app/server.js', import.meta.url));
const REPLICA_READY_TIMEOUT_MS = 15_000;

/** The default runtime: replicas and stores are child processes of hactl on 127.0.0.1. */
export async function createLocalRuntime(options: RuntimeOptions): Promise<Runtime> {
  const runDir = await mkdtemp(path.join(os.tmpdir(), `hactl-${options.runId}-`));
  const supervisor = new ProcessSupervisor();
  const stopCleaningOnExit = cleanUpOnExit(supervisor, runDir);
  const balancers = new Set<Balancer>();
  const storeContext = { supervisor, runDir, runId: options.runId, env: options.env, signal: options.signal };

  return {
    name: 'local',
    checkStore: (store) => store.local.check(options.env),
    startStore: (store) => store.local.start(storeContext),
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
        balancer = await startBalancer(
          balancerSettings(
            topology,
            { host: '127.0.0.1', port: topology.balancer.port },
            replicas.map((replica) => ({ id: replica.plan.id, host: '127.0.0.1', port: replica.port })),
          ),
        );
      } catch (error) {
        await Promise.all(replicas.map((replica) => replica.process.stop()));
        throw error;
      }
      balancers.add(balancer);
      return localCluster(balancer, replicas, () => balancers.delete(balancer));
    },
    async close() {
      await Promise.all([...balancers].map((balancer) => balancer.stop()));
      await supervisor.stopAll();
      stopCleaningOnExit();
      await rm(runDir, { recursive: true, force: true, maxRetries: 3 });
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

function localCluster(balancer: Balancer, replicas: LocalReplica[], forget: () => void): Cluster {
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
  return assembleCluster(balancer, controls, async () => {
    await balancer.stop();
    forget();
    await Promise.all(replicas.map((r) => r.process.stop()));
  });
}

async function startReplica(
  plan: ReplicaPlan,
  port: number,
  topology: Topology,
  store: RunningStore | undefined,
  supervisor: ProcessSupervisor,
  options: RuntimeOptions,
): Promise<LocalReplica> {
  // NODE_EXTRA_CA_CERTS costs every Node start tens of milliseconds; the demo app needs no CA.
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = options.env;
  const url = `http://127.0.0.1:${port}/health`;
  const launch = async () =>
    waitUntilReady(
      await supervisor.spawn(`demo app ${plan.id}`, process.execPath, [APP_ENTRY], {
        env: { ...env, ...replicaEnvironment(topology, plan, { host: '127.0.0.1', port }, store?.url) },
        // The IPC channel lets a replica notice that hactl is gone and exit with it.
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      }),
      () => answers200(url),
      { what: `${plan.id} (${url})`, timeoutMs: REPLICA_READY_TIMEOUT_MS, intervalMs: 20, signal: options.signal },
    );
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
