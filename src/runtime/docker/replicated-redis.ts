import { allSettledOrThrow } from '../../platform/settled.js';
import { faultProxyControl, type FaultProxyControl } from '../../faults/control.js';
import { FailoverController } from '../../stores/replication/failover.js';
import { rejoiningControls } from '../../stores/replication/rejoin.js';
import { describeTimings } from '../../stores/replication/timings.js';
import { countKeys, lagOf, REDIS_FAILOVER_TIMINGS, redisReplicationDriver, waitCalls, waitForSync, type RedisNodeReach } from '../../stores/redis-replication.js';
import { nodeAddress, type ReplicationOptions, type RunningStore, type StoreModule, type StoreNode, type StoreOptions } from '../../stores/store.js';
import { replicatedRedisContainers, type ContainerPlan, type NetworkMode } from '../../topology/containers.js';
import { waitForContainer, type ContainerHandle } from './containers.js';
import type { ContainerSet } from './container-set.js';
import type { Engine } from './engine.js';
import type { PortPlacement } from './placement.js';

const READY_TIMEOUT_MS = 60_000;

/** What the docker runtime lends this topology: its engine, its containers' owner, where ports go. */
export interface DockerStoreContext {
  engine: Engine;
  containers: ContainerSet;
  placement: PortPlacement;
  network: NetworkMode;
  /** The image the fault proxies run in (the demo app's, which carries fault-proxy.mjs). */
  appImage: string;
  signal: AbortSignal | undefined;
}

/**
 * redis:replica on the docker runtime, as startReplicatedRedis is on the local one: a container per
 * node, a replication link per node and the primary endpoint as fault-proxy containers, and
 * hactl's failover controller in hactl, talking to nodes and proxies through their published
 * ports. Nodes name each other (REPLICAOF) by their names on the run's network, which the
 * containers resolve; hactl never does. A killed node is replaced by a new container of the same
 * name and ports that follows the primary of the moment (after the failover, if it was the
 * primary): the managed service replaces a failed node; a restart of the old container would
 * bring back a primary with no data.
 */
export async function startReplicatedRedisContainers(context: DockerStoreContext, store: StoreModule, image: string, options: StoreOptions & { replication: ReplicationOptions }): Promise<RunningStore> {
  const { engine, containers, signal } = context;
  const replication = options.replication;
  const timings = REDIS_FAILOVER_TIMINGS[replication.profile];
  const planned = store.nodes(options);
  // Planned twice: host networking needs the ports before the plans can name them.
  const draft = replicatedRedisContainers(store.docker, image, context.appImage, { network: 'bridge' }, options, planned);
  const { placement, publish } = await context.placement.place([...draft.nodes.flatMap((node) => [node.plan, node.link.plan]), draft.endpoint.plan]);
  const topology = replicatedRedisContainers(store.docker, image, context.appImage, placement, options, planned);
  const started: ContainerHandle[] = [];
  let controller: FailoverController | undefined;

  const stopAll = async () => {
    await controller?.stop();
    await Promise.all(started.map((handle) => containers.remove(handle)));
  };

  const hostAddress = (handle: ContainerHandle, port: number) => ({ host: engine.publishHost, port: handle.hostPort(port) });
  const runProxy = async (plan: ContainerPlan): Promise<{ handle: ContainerHandle; control: FaultProxyControl }> => {
    const controlOf = (handle: ContainerHandle) => faultProxyControl(`http://${engine.publishHost}:${handle.hostPort(plan.ports[1]!)}`);
    const handle = await containers.withContainer(plan, publish.get(plan.service), (candidate) => {
      started.push(candidate);
      return waitForContainer(candidate, () => controlOf(candidate).ready(), { what: `fault proxy container ${candidate.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
    });
    return { handle, control: controlOf(handle) };
  };
  const runNode = (plan: ContainerPlan) =>
    containers.withContainer(plan, publish.get(plan.service), (candidate) => {
      started.push(candidate);
      return waitForContainer(candidate, () => store.docker.probe(engine.publishHost, candidate.hostPort(plan.ports[0]!)), { what: `${store.name} container ${candidate.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
    });

  try {
    const nodes: StoreNode[] = topology.nodes.map((node, i) => ({ id: node.id, role: planned[i]!.role, address: nodeAddress(store.docker.url(node.reachAt.host, node.reachAt.port)) }));
    const planOf = new Map(nodes.map((node, i) => [node, topology.nodes[i]!]));
    // Links first, so that a replica's first connection to its primary finds one.
    const links = new Map(await allSettledOrThrow(nodes.map(async (node) => [node, await runProxy(planOf.get(node)!.link.plan)] as const)));
    const handles = new Map(await allSettledOrThrow(nodes.map(async (node) => [node, await runNode(planOf.get(node)!.plan)] as const)));
    const running = new Set<StoreNode>(nodes);
    const reach: RedisNodeReach = {
      server: (node) => hostAddress(handles.get(node)!, planOf.get(node)!.plan.ports[0]!),
      link: (node) => planOf.get(node)!.link.reachAt,
    };
    const primary = nodes.find((node) => node.role === 'primary')!;
    await Promise.all(nodes.filter((node) => node !== primary).map((node) => waitForSync(node, reach.server(node), signal)));
    const endpoint = await runProxy(topology.endpoint.plan);

    // The endpoint dials a node by its address, not its name: a dead container's name does not
    // resolve (the engine's DNS forwards the query and it times out, 5 s and more with no outside
    // resolver), and the proxy's lookups of it hold up its lookups of the live primary's name.
    const upstreamOf = async (node: StoreNode) => {
      const address = await handles.get(node)!.networkAddress();
      return address ? { host: address, port: planOf.get(node)!.reachAt.port } : planOf.get(node)!.reachAt;
    };
    await endpoint.control.setUpstream(await upstreamOf(primary));
    const owned = (controller = new FailoverController(
      nodes,
      redisReplicationDriver(reach),
      { moveTo: async (node) => endpoint.control.setUpstream(await upstreamOf(node)) },
      timings,
      (node) => running.has(node),
    ));
    owned.start();

    for (const node of nodes) {
      node.controls = rejoiningControls(node, owned, {
        timings,
        signal,
        async kill(sig) {
          running.delete(node);
          await handles.get(node)!.kill(sig);
        },
        // A new container, not the old one restarted (that would be an empty primary), following the primary of the moment.
        async rejoin(primary) {
          const old = handles.get(node)!;
          await containers.remove(old);
          started.splice(started.indexOf(old), 1);
          const replacement = await runNode(topology.nodeContainer(node.id, primary.id));
          handles.set(node, replacement);
          await waitForSync(node, reach.server(node), signal);
          running.add(node);
        },
        pause: () => handles.get(node)!.pause(),
        unpause: () => handles.get(node)!.unpause(),
      });
    }

    const endpointAt = hostAddress(endpoint.handle, topology.endpoint.plan.ports[0]!);
    const described = `${image}: a primary and ${replication.replicas} replica${replication.replicas === 1 ? '' : 's'} in containers (${context.network} network; ${nodes.map((node) => `${node.id} ${handles.get(node)!.name} ${reach.server(node).host}:${reach.server(node).port}`).join(', ')}), ${replication.mode === 'async' ? 'asynchronous replication' : 'replication the app waits for (WAIT)'}, ${store.docker.settings(options)}; primary endpoint container ${endpoint.handle.name} (${endpointAt.host}:${endpointAt.port}), failover by hactl (${describeTimings(timings)})`;
    return {
      name: store.name,
      description: described,
      nodes,
      endpoints: { app: { url: topology.url, nodes: nodes.map((node) => node.id) } },
      countEntries: () => countKeys(reach.server(owned.primary())),
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'hactl',
        primary: () => owned.primary().id,
        lag: () => lagOf(owned.primary(), nodes, reach, running),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, waitSignal) => owned.waitFor(kind, since, timeoutMs, waitSignal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
        ...(replication.mode === 'sync' ? { syncRequests: () => waitCalls(reach.server(owned.primary())) } : {}),
        async setLinkDelay(ms) {
          await Promise.all([...links.values()].map((link) => link.control.setToxic(ms > 0 ? { type: 'latency', latencyMs: ms, dropOnClose: true } : undefined)));
        },
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
