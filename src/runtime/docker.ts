import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBalancer, type Balancer } from '../balancer/index.js';
import { followBalancer } from '../balancer/remote.js';
import { EnvironmentError } from '../errors.js';
import type { RunningStore, StoreModule, StoreOptions } from '../stores/store.js';
import { detectionBoundMs, type BalancerSettings } from '../balancer/settings.js';
import { balancerContainer, DEFAULT_HAPROXY_IMAGE, DEFAULT_NODE_IMAGE, faultProxyContainer, haproxyContainer, replicaContainers, RUN_LABEL, storeContainer, type ContainerPlan, type Placement } from '../topology/containers.js';
import { faultProxyControl } from '../faults/control.js';
import { addressOf, withAddress } from './store-address.js';
import { balancerSettings, type Topology } from '../topology/plan.js';
import { removeRunResources } from './docker/down.js';
import { connectEngine, engineCall } from './docker/engine.js';
import { createContainer, waitForContainer, type ContainerHandle } from './docker/containers.js';
import { demoAppImage, ensureImage, ImageUnavailableError } from './docker/images.js';
import { assembleCluster, type ReplicaControl } from './cluster.js';
import { answers200, healthProbe } from './http-probe.js';
import { sleep } from '../time.js';
import { freePorts } from './ports.js';
import type { Cluster, Runtime, RuntimeOptions } from './runtime.js';
import type { DockerSettings } from './docker/settings.js';

const READY_TIMEOUT_MS = 60_000;

const REAPER = fileURLToPath(new URL('./docker/reap.js', import.meta.url));
const REAP_TIMEOUT_MS = 20_000;

/**
 * If hactl exits without tearing down (a second Ctrl-C, the teardown deadline, a crash), the
 * run's containers and network go anyway: a synchronous child removes what carries its label.
 * A SIGKILLed hactl cannot do even that; `hactl down` is for those leftovers.
 */
function reapOnExit(runId: string): () => void {
  const onExit = () => {
    spawnSync(process.execPath, [REAPER, runId], { stdio: 'ignore', timeout: REAP_TIMEOUT_MS });
  };
  process.on('exit', onExit);
  return () => process.off('exit', onExit);
}

/**
 * Replicas and stores as containers on any Docker engine (DOCKER_HOST, or the default socket),
 * on a bridge network of the run's own (containers reach each other by service name, hactl
 * reaches them on ports published to 127.0.0.1) or on the host network. The balancer runs in
 * hactl, as on the local runtime, or in a container beside the replicas.
 */
export async function createDockerRuntime(options: RuntimeOptions<DockerSettings>): Promise<Runtime> {
  const { settings } = options;
  const { signal } = options;
  const imageOptions = { progress: options.onProgress ?? (() => {}), signal };
  const engine = await connectEngine(options.env);
  const { docker } = engine;
  if (engine.remote && settings.network === 'host') {
    throw new EnvironmentError(`--docker-network host puts every service on 127.0.0.1 of the engine's machine, which hactl cannot reach from here (DOCKER_HOST=${engine.address}); use the default bridge network`);
  }
  if (engine.remote && settings.balancer === 'hactl') {
    throw new EnvironmentError(`with a remote engine (DOCKER_HOST=${engine.address}) the balancer must run beside the replicas: use --docker-balancer container (or auto)`);
  }
  const balancerInContainer = settings.balancer === 'container' || (settings.balancer === 'auto' && engine.remote);
  const appImage = await demoAppImage(docker, settings.images.node ?? DEFAULT_NODE_IMAGE, imageOptions);
  const haproxyImage = settings.images.haproxy ?? DEFAULT_HAPROXY_IMAGE;

  const containers = new Set<ContainerHandle>();
  const balancers = new Set<Balancer>();
  const stopReapingOnExit = reapOnExit(options.runId);
  const networkName = settings.network === 'bridge' ? `hactl-${options.runId}` : undefined;
  if (networkName) {
    await engineCall(`create network ${networkName}`, docker.createNetwork({ Name: networkName, Driver: 'bridge', Labels: { [RUN_LABEL]: options.runId }, CheckDuplicate: true }), { signal });
  }

  /**
   * Places containers: on the host network every port is a free host port; on a bridge network
   * their fixed ports are published on free host ports, which stay the same across restarts (a
   * remote engine picks its own). `fixed` pins a service's first port, as --port does the balancer's.
   */
  const place = async (plans: ContainerPlan[], fixed: Record<string, number> = {}): Promise<{ placement: Placement; publish: Map<string, number[]> }> => {
    const wanted = plans.reduce((count, plan) => count + plan.ports.length, 0);
    const ports = engine.remote ? [] : await freePorts(wanted);
    const byService = new Map<string, number[]>();
    let next = 0;
    for (const plan of plans) byService.set(plan.service, plan.ports.map((_, i) => (i === 0 && fixed[plan.service]) || ports[next++]!));
    return {
      placement: settings.network === 'host' ? { network: 'host', hostPorts: Object.fromEntries(byService) } : { network: 'bridge' },
      publish: byService,
    };
  };
  const run = async (plan: ContainerPlan, publish: number[] | undefined) => {
    const handle = await createContainer(engine, plan, { runId: options.runId, network: settings.network, networkName, publish: engine.remote ? undefined : publish, signal });
    containers.add(handle);
    return handle;
  };
  const remove = async (handle: ContainerHandle) => {
    containers.delete(handle);
    await handle.remove();
  };

  return {
    name: 'docker',
    async checkBalancer(kind) {
      if (kind === 'hactl') return { available: true, detail: balancerInContainer ? 'in a container' : 'in-process worker thread' };
      try {
        await ensureImage(docker, haproxyImage, 'haproxy', imageOptions);
        return { available: true, detail: haproxyImage };
      } catch (error) {
        if (error instanceof ImageUnavailableError) return { available: false, reason: error.message, fix: error.fix };
        throw error;
      }
    },
    async startStoreProxy(store) {
      const upstream = addressOf(store.url);
      const draft = faultProxyContainer(appImage, { network: 'bridge' }, upstream);
      const { placement, publish } = await place([draft.plan]);
      const { plan, reachAt } = faultProxyContainer(appImage, placement, upstream);
      const handle = await run(plan, publish.get(plan.service));
      const admin = `http://${engine.publishHost}:${handle.hostPort(plan.ports[1]!)}`;
      await waitForContainer(handle, () => answers200(`${admin}/health`), { what: `fault proxy container ${handle.name}`, timeoutMs: READY_TIMEOUT_MS, signal }).catch(async (error: unknown) => {
        await remove(handle);
        throw error;
      });
      const control = faultProxyControl(admin);
      return { url: withAddress(store.url, reachAt.host, reachAt.port), setToxic: (toxic) => control.setToxic(toxic), stop: async () => void (await remove(handle)) };
    },
    async checkStore(store) {
      const { key, default: fallback } = store.docker.image;
      try {
        await ensureImage(docker, settings.images[key] ?? fallback, key, imageOptions);
        return { available: true, detail: settings.images[key] ?? fallback };
      } catch (error) {
        if (error instanceof ImageUnavailableError) return { available: false, reason: error.message, fix: error.fix };
        throw error;
      }
    },
    async startStore(store, storeOptions) {
      return startStoreContainer(store, settings.images[store.docker.image.key] ?? store.docker.image.default, storeOptions);
    },
    async startCluster(topology, store) {
      return startDockerCluster(topology, store);
    },
    async close() {
      await Promise.all([...balancers].map((balancer) => balancer.stop()));
      await Promise.all([...containers].map(remove));
      if (networkName) await engineCall(`remove network ${networkName}`, docker.getNetwork(networkName).remove()).catch(() => undefined);
      // Whatever the engine still holds under this run's label was not removed: say so, and keep
      // the exit reaper armed for one more try.
      const left = await removeRunResources(docker, options.runId, { dryRun: true }).catch(() => undefined);
      const names = left ? [...left.containers.map((name) => `container ${name}`), ...left.networks.map((name) => `network ${name}`)] : [];
      if (names.length > 0) throw new EnvironmentError(`could not remove ${names.join(', ')} from the Docker engine; run hactl down --run ${options.runId}`);
      stopReapingOnExit();
    },
  };

  async function startStoreContainer(store: StoreModule, image: string, storeOptions: StoreOptions): Promise<RunningStore> {
    const recipe = store.docker;
    // Planned twice: host networking needs the ports before the plan can name them.
    const draft = storeContainer(store.name, recipe, image, { network: 'bridge' }, storeOptions);
    const { placement, publish } = await place([draft.plan]);
    const { plan, url } = storeContainer(store.name, recipe, image, placement, storeOptions);
    const handle = await run(plan, publish.get(plan.service));
    const hostPort = () => handle.hostPort(plan.ports[0]!);
    const ready = () =>
      waitForContainer(handle, () => recipe.probe(engine.publishHost, hostPort()), {
        what: `${store.name} container ${handle.name}`,
        timeoutMs: READY_TIMEOUT_MS,
        signal,
      });
    await ready().catch((error: unknown) => {
      containers.delete(handle);
      throw error;
    });
    return {
      name: store.name,
      url,
      description: `${image} in container ${handle.name} (${settings.network} network, ${engine.publishHost}:${hostPort()}), ${recipe.settings(storeOptions)}`,
      countEntries: () => store.countEntries(withAddress(url, engine.publishHost, hostPort())),
      kill: (signal) => handle.kill(signal),
      async restart() {
        await handle.start();
        await ready();
      },
      pause: () => handle.pause(),
      unpause: () => handle.unpause(),
      stop: () => remove(handle),
    };
  }

  async function startDockerCluster(topology: Topology, store: RunningStore | undefined): Promise<Cluster> {
    const haproxy = topology.balancer.kind === 'haproxy';
    const balancerPlan = (placement: Placement) =>
      haproxy ? haproxyContainer(topology, haproxyImage, placement).plan : balancerContainer(topology, appImage, placement);
    const drafts = [
      ...replicaContainers(topology, appImage, { network: 'bridge' }, store?.url),
      ...(balancerInContainer || haproxy ? [balancerPlan({ network: 'bridge' })] : []),
    ];
    const { placement, publish } = await place(drafts, topology.balancer.port ? { balancer: topology.balancer.port } : {});
    const replicaPlans = replicaContainers(topology, appImage, placement, store?.url);

    const started = await Promise.allSettled(replicaPlans.map(async (plan) => startReplica(plan, publish.get(plan.service))));
    const replicas = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await Promise.all(replicas.map(remove));
      throw failed.reason;
    }

    let balancer: Balancer | undefined;
    let balancerHandle: ContainerHandle | undefined;
    try {
      if (haproxy) {
        const { plan, settings: haproxySettings } = haproxyContainer(topology, haproxyImage, placement);
        balancerHandle = await run(plan, publish.get(plan.service));
        balancer = await haproxyInContainer(haproxySettings, balancerHandle, plan);
      } else if (balancerInContainer) {
        const plan = balancerContainer(topology, appImage, placement);
        balancerHandle = await run(plan, publish.get(plan.service));
        const url = `http://${engine.publishHost}:${balancerHandle.hostPort(plan.ports[0]!)}`;
        const eventsUrl = `http://${engine.publishHost}:${balancerHandle.hostPort(plan.ports[1]!)}/events`;
        const follower = await followBalancer({ url, eventsUrl, targetIds: replicaPlans.map((plan) => plan.service), signal, deregistrationDelayMs: topology.balancer.deregistrationDelayMs });
        balancer = follower;
        // Its targets start in ALB's initial state: the scenario starts once every one is in rotation.
        const settle = detectionBoundMs(topology.balancer.healthCheck, 'healthy');
        await Promise.all(replicaPlans.map((plan) => follower.waitForHealth(plan.service, true, settle, signal)));
      } else {
        balancer = await startBalancer(
          balancerSettings(
            topology,
            { host: '127.0.0.1', port: topology.balancer.port },
            replicas.map((replica) => ({ id: replica.plan.service, host: engine.publishHost, port: replica.hostPort(replica.plan.ports[0]!) })),
          ),
        );
      }
    } catch (error) {
      await balancer?.stop();
      await Promise.all([...replicas, ...(balancerHandle ? [balancerHandle] : [])].map(remove));
      throw error;
    }
    const running = balancer;
    balancers.add(running);

    const controls = new Map<string, ReplicaControl>(
      replicas.map((handle) => [
        handle.plan.service,
        {
          kill: (signal) => handle.kill(signal),
          async start() {
            await handle.start();
            await replicaReady(handle);
          },
          pause: () => handle.pause(),
          unpause: () => handle.unpause(),
        },
      ]),
    );
    return assembleCluster(running, controls, async () => {
      balancers.delete(running);
      await running.stop();
      await Promise.all([...replicas, ...(balancerHandle ? [balancerHandle] : [])].map(remove));
    });
  }

  /** HAProxy in its container, followed and driven through its runtime API on a published port. */
  async function haproxyInContainer(haproxySettings: BalancerSettings, handle: ContainerHandle, plan: ContainerPlan): Promise<Balancer> {
    const { attachHaproxy, haproxyAdmin } = await import('../balancer/haproxy/index.js');
    const url = `http://${engine.publishHost}:${handle.hostPort(plan.ports[0]!)}`;
    const admin = haproxyAdmin({ host: engine.publishHost, port: handle.hostPort(plan.ports[1]!) });
    const what = `haproxy container ${handle.name}`;
    await waitForContainer(handle, async () => (await admin.showServers().catch(() => undefined)) !== undefined && (await answers200(`${url}/health`)), { what, timeoutMs: READY_TIMEOUT_MS, signal });
    let watching = true;
    const exited = (async () => {
      while (watching && (await handle.isRunning().catch(() => false))) await sleep(500);
      return `${what} exited: ${(await handle.logs()) || 'no output'}`;
    })();
    let gone = false;
    void exited.then(() => (gone = true));
    // Replicas are registered once they answer, so they start in service, as with hactl's balancer.
    return attachHaproxy(haproxySettings, {
      url,
      what,
      admin,
      exited,
      hasExited: () => gone,
      stop: async () => {
        watching = false;
      },
    });
  }

  async function startReplica(plan: ContainerPlan, publish: number[] | undefined): Promise<ContainerHandle> {
    const handle = await run(plan, publish);
    await replicaReady(handle).catch((error: unknown) => {
      containers.delete(handle);
      throw error;
    });
    return handle;
  }

  function replicaReady(handle: ContainerHandle): Promise<void> {
    const url = `http://${engine.publishHost}:${handle.hostPort(handle.plan.ports[0]!)}${handle.plan.healthPath ?? '/health'}`;
    const health = healthProbe(url);
    return waitForContainer(handle, health.probe, {
      what: `${handle.plan.service} container ${handle.name}`,
      timeoutMs: handle.plan.startupTimeoutMs ?? READY_TIMEOUT_MS,
      signal,
      lastProbe: health.last,
    });
  }
}

