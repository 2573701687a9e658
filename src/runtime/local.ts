import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startBalancer, type Balancer } from '../balancer/index.js';
import { EnvironmentError } from '../errors.js';
import type { RunningStore } from '../stores/store.js';
import type { ReplicaPlan, Topology } from '../topology/plan.js';
import { freePorts } from './ports.js';
import { ProcessSupervisor, waitUntilReady, type Supervised } from './processes.js';
import type { RuntimeOptions } from './index.js';
import type { Cluster, Runtime } from './runtime.js';

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
        balancer = await startBalancer({
          host: '127.0.0.1',
          port: topology.balancer.port,
          targets: replicas.map((replica) => ({ id: replica.plan.id, host: '127.0.0.1', port: replica.port })),
          algorithm: topology.balancer.algorithm,
          stickiness: topology.balancer.stickiness,
          healthCheck: topology.balancer.healthCheck,
          upstreamTimeoutMs: topology.balancer.upstreamTimeoutMs,
        });
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
}

function localCluster(balancer: Balancer, replicas: LocalReplica[], forget: () => void): Cluster {
  const byId = new Map(replicas.map((replica) => [replica.plan.id, replica]));
  return {
    balancerUrl: balancer.url,
    replicaIds: replicas.map((replica) => replica.plan.id),
    async killReplica(replicaId, signal) {
      const replica = byId.get(replicaId);
      if (!replica) throw new EnvironmentError(`no replica named ${replicaId} in this cluster`);
      const at = Date.now();
      await replica.process.kill(signal);
      return { at };
    },
    waitForReplicaHealth: (replicaId, healthy, timeoutMs, signal) => balancer.waitForHealth(replicaId, healthy, timeoutMs, signal),
    failure: () => balancer.failure(),
    async stop() {
      await balancer.stop();
      forget();
      await Promise.all(replicas.map((replica) => replica.process.stop()));
    },
  };
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
  const child = await supervisor.spawn(`demo app ${plan.id}`, process.execPath, [APP_ENTRY], {
    env: {
      ...env,
      HACTL_REPLICA_ID: plan.id,
      HOST: '127.0.0.1',
      PORT: String(port),
      HACTL_SESSION_STORE: topology.app.sessionStore,
      HACTL_STORE_URL: store?.url ?? '',
      HACTL_SESSION_SECRET: topology.app.secret,
      HACTL_COOKIE_NAME: topology.app.cookieName,
    },
    // The IPC channel lets a replica notice that hactl is gone and exit with it.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const url = `http://127.0.0.1:${port}/health`;
  await waitUntilReady(child, () => answers200(url), { what: `${plan.id} (${url})`, timeoutMs: REPLICA_READY_TIMEOUT_MS, intervalMs: 20, signal: options.signal });
  return { plan, port, process: child };
}

function answers200(url: string): Promise<boolean> {
  return request(url, { signal: AbortSignal.timeout(1_000) })
    .then(async (response) => {
      await response.body.dump();
      return response.statusCode === 200;
    })
    .catch(() => false);
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
