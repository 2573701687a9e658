import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBalancer, type Balancer } from '../balancer/index.js';
import { followBalancer } from '../balancer/remote.js';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { dockerReplicationProblem, nodeAddress, oneNodeStore, type Availability, type RunningStore, type StoreModule, type StoreNode, type StoreOptions } from '../stores/store.js';
import { detectionBoundMs, type BalancerSettings } from '../balancer/settings.js';
import { APP_PORT, balancerContainer, DEFAULT_HAPROXY_IMAGE, faultProxyContainer, haproxyContainer, replicaContainers, RUN_LABEL, storeContainer, type ContainerPlan, type Placement } from '../topology/containers.js';
import { faultProxyControl } from '../faults/control.js';
import { knownAddress, withAddress } from './store-address.js';
import { balancerSettings, type BalancerKind, type Topology } from '../topology/plan.js';
import { removeRunResources } from './docker/down.js';
import { connectEngine, engineCall, type Engine } from './docker/engine.js';
import { waitForContainer, type ContainerHandle } from './docker/containers.js';
import { ContainerSet } from './docker/container-set.js';
import { startReplicatedRedisContainers } from './docker/replicated-redis.js';
import { startSentinelRedisContainers } from './docker/sentinel-redis.js';
import { startReplicaSetContainers } from './docker/replica-set-mongo.js';
import { startReplicatedPostgresContainers } from './docker/replicated-postgres.js';
import { PortPlacement } from './docker/placement.js';
import { imagesNeeded, prepareImages, availabilityOf, type PreparedImages } from './docker/run-images.js';
import { startReaper, type Reaper } from './docker/reaper.js';
import { findLeftRuns, leftRunNotice } from './docker/leftovers.js';
import { OWNER_LABEL, owner } from './docker/owner.js';
import { assembleCluster, type ReplicaControl } from './cluster.js';
import { stopEach } from '../platform/teardown.js';
import { answers200, healthProbe } from './http-probe.js';
import { sleep } from '../platform/time.js';
import type { Cluster, Runtime, RuntimeOptions, StoreProxy } from './runtime.js';
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
  return DockerRuntime.start(options);
}

/** The container topologies of replicated stores, by store and by who decides the failover: one module each. */
const REPLICATED_TOPOLOGIES: Partial<Record<string, typeof startReplicatedRedisContainers>> = {
  'redis/hactl': startReplicatedRedisContainers,
  'redis/sentinel': startSentinelRedisContainers,
  'postgres/hactl': startReplicatedPostgresContainers,
  'mongo/election': startReplicaSetContainers,
};

export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  private readonly balancers = new Set<Balancer>();
  private readonly signal: AbortSignal | undefined;
  private readonly imageOptions: { progress: (line: string) => void; signal: AbortSignal | undefined };
  private readonly haproxyImage: string;
  private readonly placement: PortPlacement;

  private constructor(
    private readonly engine: Engine,
    private readonly settings: DockerSettings,
    private readonly runId: string,
    private readonly balancerInContainer: boolean,
    /** Every image the run needs, had before anything started: the demo image's tag, the app's port, store images. */
    private readonly images: PreparedImages,
    private readonly networkName: string | undefined,
    /** Every container of the run: whatever started it, close() removes it. */
    private readonly containers: ContainerSet,
    private readonly stopReapingOnExit: () => void,
    /** The run's reaper container, when one could be had: it removes the run's containers if hactl dies. */
    private readonly reaper: Reaper | undefined,
    options: RuntimeOptions<DockerSettings>,
  ) {
    this.signal = options.signal;
    this.imageOptions = { progress: options.onProgress ?? (() => {}), signal: options.signal };
    this.haproxyImage = settings.images.haproxy ?? DEFAULT_HAPROXY_IMAGE;
    this.placement = new PortPlacement(settings.network, engine.remote);
  }

  static async start(options: RuntimeOptions<DockerSettings>): Promise<DockerRuntime> {
    const { settings, signal } = options;
    const imageOptions = { progress: options.onProgress ?? (() => {}), signal };
    const engine = await connectEngine(options.env);
    const { docker } = engine;
    if (engine.remote && settings.network === 'host') {
      throw new EnvironmentError(`--docker-network host puts every service on 127.0.0.1 of the engine's machine, which hactl cannot reach from here (DOCKER_HOST=${engine.address}); use the default bridge network`);
    }
    if (engine.remote && settings.balancer === 'hactl') {
      throw new EnvironmentError(`with a remote engine (DOCKER_HOST=${engine.address}) the balancer must run beside the replicas: use --docker-balancer container (or auto)`);
    }
    const balancerInContainer = settings.balancer === 'container';
    // What runs that are gone left on the engine: said, not removed (it may be another user's to look at).
    for (const left of await findLeftRuns(docker, options.runId, signal).catch(() => [])) imageOptions.progress(leftRunNotice(left));
    // Every image, once, before anything starts: a run that cannot have its app's fails here, not on every row.
    const images = await prepareImages(docker, imagesNeeded(options.needs, settings, balancerInContainer), imageOptions);
    const stopReapingOnExit = reapOnExit(options.runId);
    const reaper = await DockerRuntime.reaper(engine, options, images);
    const networkName = settings.network === 'bridge' ? `hactl-${options.runId}` : undefined;
    try {
      if (networkName) {
        await engineCall(`create network ${networkName}`, docker.createNetwork({ Name: networkName, Driver: 'bridge', Labels: { [RUN_LABEL]: options.runId, [OWNER_LABEL]: owner() }, CheckDuplicate: true }), { signal });
      }
    } catch (error) {
      await reaper?.close();
      throw error;
    }
    const containers = new ContainerSet(engine, { runId: options.runId, network: settings.network, ...(networkName ? { networkName } : {}), ...(signal ? { signal } : {}) });
    return new DockerRuntime(engine, settings, options.runId, balancerInContainer, images, networkName, containers, stopReapingOnExit, reaper, options);
  }

  /**
   * The run's reaper (Testcontainers' Ryuk, in hactl's terms), from the Node base image; without
   * that image, or with HACTL_REAPER=off, none, and a SIGKILLed hactl leaves its containers to
   * the next run's notice and `hactl down`.
   */
  private static async reaper(engine: Engine, options: RuntimeOptions<DockerSettings>, images: PreparedImages): Promise<Reaper | undefined> {
    const progress = options.onProgress ?? (() => {});
    if (options.env.HACTL_REAPER === 'off') return undefined;
    if (!images.node) {
      progress(`no reaper for this run: its image (the Node base, ${options.settings.images.node ?? 'node:20-slim'}) cannot be had; if hactl is killed, hactl down --run ${options.runId} removes what it leaves`);
      return undefined;
    }
    try {
      return await startReaper(engine, options.runId, images.node, options.signal);
    } catch (error) {
      options.signal?.throwIfAborted();
      progress(`no reaper for this run (${errorMessage(error)}); if hactl is killed, hactl down --run ${options.runId} removes what it leaves`);
      return undefined;
    }
  }

  /**
   * The demo app image; only a run whose needs said it uses it has one. Plans name it whether or not
   * a container of them runs it (a user's replicas do not), so this cannot throw; an image that
   * exists nowhere makes a container of it fail, naming it.
   */
  private get appImage(): string {
    return this.images.demo ?? 'hactl/demo-app:not-built-for-this-run';
  }

  async checkBalancer(kind: BalancerKind): Promise<Availability> {
    if (kind === 'hactl') return { available: true, detail: this.balancerInContainer ? 'in a container' : 'in-process worker thread' };
    return this.imageAvailability(this.haproxyImage, 'haproxy');
  }

  async checkStore(store: StoreModule): Promise<Availability> {
    const { key, default: fallback } = store.docker.image;
    return this.imageAvailability(this.settings.images[key] ?? fallback, key);
  }

  /** As found before the run started; an image the run's needs did not name is had now. */
  private async imageAvailability(image: string, key: string): Promise<Availability> {
    const known = this.images.availability.get(image);
    if (known) return known;
    const found = await availabilityOf(this.engine.docker, image, key, this.imageOptions);
    this.images.availability.set(image, found);
    return found;
  }

  async startStore(store: StoreModule, storeOptions: StoreOptions): Promise<RunningStore> {
    const image = this.settings.images[store.docker.image.key] ?? store.docker.image.default;
    if (storeOptions.replication) {
      // One container would stand where the plan has a primary and replicas: refused, not faked.
      const problem = dockerReplicationProblem(store, storeOptions);
      if (problem) throw new EnvironmentError(`${problem}; run its variant there`);
      const { engine, containers, placement, appImage, signal } = this;
      const decider = storeOptions.replication.decidedBy ?? 'hactl';
      const start = REPLICATED_TOPOLOGIES[`${store.name}/${decider}`];
      if (!start) throw new EnvironmentError(`a replicated ${store.name} whose failover is ${decider}'s has no containers on --runtime docker; run its variant on --runtime local`);
      return start({ engine, containers, placement, network: this.settings.network, appImage, signal }, store, image, { ...storeOptions, replication: storeOptions.replication });
    }
    return this.startStoreContainer(store, image, storeOptions);
  }

  async startCluster(topology: Topology, store: RunningStore | undefined): Promise<Cluster> {
    return this.startDockerCluster(this.withAppPort(topology), store);
  }

  /** The user's image listens on the profile's containerPort, else on the port its EXPOSE names, else on 8080 (PORT says which). */
  private withAppPort(topology: Topology): Topology {
    const custom = topology.app.custom;
    if (custom?.image === undefined || custom.containerPort !== undefined) return topology;
    return { ...topology, app: { ...topology.app, custom: { ...custom, containerPort: this.images.appExposedPort ?? APP_PORT } } };
  }

  async close(): Promise<void> {
    const { docker } = this.engine;
    // The containers go whatever the balancers did; what is left is found and said below.
    const failures = await stopEach([
      { what: 'the balancers', stop: () => Promise.all([...this.balancers].map((balancer) => balancer.stop())) },
      { what: 'the containers', stop: () => this.containers.removeAll() },
    ]);
    if (this.networkName) await engineCall(`remove network ${this.networkName}`, docker.getNetwork(this.networkName).remove()).catch(() => undefined);
    // Last, and without reaping: everything else is gone already, or said below.
    await this.reaper?.close();
    // Whatever the engine still holds under this run's label was not removed: say so, and keep
    // the exit reaper armed for one more try.
    const left = await removeRunResources(docker, this.runId, { dryRun: true }).catch(() => undefined);
    const names = left ? [...left.containers.map((name) => `container ${name}`), ...left.networks.map((name) => `network ${name}`)] : [];
    if (names.length > 0) throw new EnvironmentError(`${[...failures, `could not remove ${names.join(', ')} from the Docker engine`].join('; ')}; run hactl down --run ${this.runId}`);
    this.stopReapingOnExit();
    if (failures.length > 0) throw new EnvironmentError(failures.join('; '));
  }

  /** The fault proxy in front of one store node, where the replicas reach it. */
  async startStoreProxy(node: StoreNode): Promise<StoreProxy> {
    const { engine, signal, appImage, containers } = this;
    const upstream = knownAddress(node);
    const draft = faultProxyContainer(appImage, { network: 'bridge' }, upstream);
    const { placement, publish } = await this.placement.place([draft.plan]);
    const { plan, reachAt } = faultProxyContainer(appImage, placement, upstream);
    const adminOf = (handle: ContainerHandle) => `http://${engine.publishHost}:${handle.hostPort(plan.ports[1]!)}`;
    const handle = await containers.withContainer(plan, publish.get(plan.service), (started) =>
      waitForContainer(started, () => answers200(`${adminOf(started)}/health`), { what: `fault proxy container ${started.name}`, timeoutMs: READY_TIMEOUT_MS, signal }),
    );
    const admin = adminOf(handle);
    const control = faultProxyControl(admin);
    return { url: withAddress(upstream.url, reachAt.host, reachAt.port), setToxic: (toxic) => control.setToxic(toxic), stop: async () => void (await containers.remove(handle)) };
  }

  private async startStoreContainer(store: StoreModule, image: string, storeOptions: StoreOptions): Promise<RunningStore> {
    const { engine, settings, signal, containers } = this;
    const recipe = store.docker;
    // Planned twice: host networking needs the ports before the plan can name them.
    const draft = storeContainer(store.name, recipe, image, { network: 'bridge' }, storeOptions);
    const { placement, publish } = await this.placement.place([draft.plan]);
    const { plan, url } = storeContainer(store.name, recipe, image, placement, storeOptions);
    const ready = (started: ContainerHandle) =>
      waitForContainer(started, () => recipe.probe(engine.publishHost, started.hostPort(plan.ports[0]!)), {
        what: `${store.name} container ${started.name}`,
        timeoutMs: READY_TIMEOUT_MS,
        signal,
      });
    const handle = await containers.withContainer(plan, publish.get(plan.service), ready);
    const hostPort = () => handle.hostPort(plan.ports[0]!);
    // One container, one node; the app's endpoint is its URL on the run's network.
    return oneNodeStore({
      name: store.name,
      description: `${image} in container ${handle.name} (${settings.network} network, ${engine.publishHost}:${hostPort()}), ${recipe.settings(storeOptions)}`,
      address: nodeAddress(url),
      countEntries: () => store.countEntries(withAddress(url, engine.publishHost, hostPort())),
      controls: {
        kill: (signal) => handle.kill(signal),
        async start() {
          await handle.start();
          await ready(handle);
        },
        pause: () => handle.pause(),
        unpause: () => handle.unpause(),
      },
      stop: () => containers.remove(handle),
    });
  }

  private async startDockerCluster(topology: Topology, store: RunningStore | undefined): Promise<Cluster> {
    const { engine, signal, appImage, containers, balancers, haproxyImage, balancerInContainer } = this;
    const replicaReady = (handle: ContainerHandle) => this.replicaReady(handle);
    const haproxy = topology.balancer.kind === 'haproxy';
    const balancerPlan = (placement: Placement) =>
      haproxy ? haproxyContainer(topology, haproxyImage, placement).plan : balancerContainer(topology, appImage, placement);
    const drafts = [
      ...replicaContainers(topology, appImage, { network: 'bridge' }, store?.endpoints.app?.url),
      ...(balancerInContainer || haproxy ? [balancerPlan({ network: 'bridge' })] : []),
    ];
    const { placement, publish } = await this.placement.place(drafts, topology.balancer.port ? { balancer: topology.balancer.port } : {});
    const replicaPlans = replicaContainers(topology, appImage, placement, store?.endpoints.app?.url);

    const started = await Promise.allSettled(replicaPlans.map(async (plan) => containers.withContainer(plan, publish.get(plan.service), replicaReady)));
    const replicas = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await Promise.all(replicas.map((handle) => containers.remove(handle)));
      throw failed.reason;
    }

    let balancer: Balancer | undefined;
    let balancerHandle: ContainerHandle | undefined;
    try {
      if (haproxy) {
        const { plan, settings: haproxySettings } = haproxyContainer(topology, haproxyImage, placement);
        balancerHandle = await containers.run(plan, publish.get(plan.service));
        balancer = await this.haproxyInContainer(haproxySettings, balancerHandle, plan);
      } else if (balancerInContainer) {
        const plan = balancerContainer(topology, appImage, placement);
        balancerHandle = await containers.run(plan, publish.get(plan.service));
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
      await Promise.all([...replicas, ...(balancerHandle ? [balancerHandle] : [])].map((handle) => containers.remove(handle)));
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
    return assembleCluster(
      running,
      controls,
      async () => {
        balancers.delete(running);
        await running.stop();
        // Removed while the next row starts: see ContainerSet.release.
        containers.release([...replicas, ...(balancerHandle ? [balancerHandle] : [])]);
      },
      topology.app.custom?.startupTimeoutMs ?? READY_TIMEOUT_MS,
    );
  }

  /** HAProxy in its container, followed and driven through its runtime API on a published port. */
  private async haproxyInContainer(haproxySettings: BalancerSettings, handle: ContainerHandle, plan: ContainerPlan): Promise<Balancer> {
    const { engine, signal } = this;
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

  private replicaReady(handle: ContainerHandle): Promise<void> {
    const port = handle.plan.ports[0]!;
    const path = handle.plan.healthPath ?? '/health';
    const published = `${this.engine.publishHost}:${handle.hostPort(port)}`;
    const health = healthProbe(`http://${published}${path}`);
    return waitForContainer(handle, health.probe, {
      what: `${handle.plan.service} container ${handle.name}`,
      timeoutMs: handle.plan.startupTimeoutMs ?? READY_TIMEOUT_MS,
      signal: this.signal,
      // Which port and path were probed, and what the image says it listens on: a wrong port is the usual cause.
      lastProbe: () => `${health.last()} (GET ${path} on port ${port} in the container, ${published} from hactl)${this.portHint(handle.plan)}`,
    });
  }

  /** For a user's image that never answered: the ports it EXPOSEs when the one probed is not among them. */
  private portHint(plan: ContainerPlan): string {
    const exposed = this.images.appExposedPorts;
    if (plan.image === this.images.demo || exposed.length === 0 || exposed.includes(plan.ports[0]!)) return '';
    return `; the image EXPOSEs ${exposed.join(', ')}: set containerPort in the app profile to the port the app listens on, or have the app listen on $PORT`;
  }
}
