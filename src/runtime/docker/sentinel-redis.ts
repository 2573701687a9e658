import { allSettledOrThrow } from '../../platform/settled.js';
import { faultProxyControl, type FaultProxyControl } from '../../faults/control.js';
import { describeTimings } from '../../stores/replication/timings.js';
import { countKeys, lagOf, waitForSync } from '../../stores/redis-replication.js';
import { onlyReplicationOnLink, QUORUM, SENTINEL_MASTER_NAME, SENTINEL_PROFILES, sentinelDataControls, sentinelsReady, SentinelWatcher, setSentinelPeriods } from '../../stores/redis-sentinel.js';
import { nodeAddress, type ReplicationOptions, type RunningStore, type StoreModule, type StoreNode, type StoreOptions } from '../../stores/store.js';
import type { ContainerPlan } from '../../topology/containers.js';
import { sentinelRedisContainers } from '../../topology/sentinel-containers.js';
import { waitForContainer, type ContainerHandle } from './containers.js';
import type { DockerStoreContext } from './replicated-redis.js';

const READY_TIMEOUT_MS = 60_000;

/**
 * redis:sentinel on the docker runtime, as startSentinelRedis is on the local one: a container per
 * data node, a replication link per node (fault-proxy containers) and three Sentinel containers,
 * all on the run's network, where Sentinel gives the apps names they resolve (no address to
 * translate but the links, which the app's URL maps to the nodes). Sentinel decides the failover;
 * hactl only watches, with the local topology's watcher, asking the Sentinels and the nodes
 * through their published ports. A killed node is replaced by a new container of the same name and
 * ports that follows the primary the Sentinels name (after their failover, if it was the primary):
 * the old container restarted would be an empty primary until Sentinel demoted it.
 */
export async function startSentinelRedisContainers(context: DockerStoreContext, store: StoreModule, image: string, options: StoreOptions & { replication: ReplicationOptions }): Promise<RunningStore> {
  const { engine, containers, signal } = context;
  const replication = options.replication;
  const profile = SENTINEL_PROFILES[replication.profile];
  const timings = profile.timings;
  const planned = store.nodes(options);
  // Planned twice: host networking needs the ports before the plans can name them.
  const draft = sentinelRedisContainers(store.docker, image, context.appImage, { network: 'bridge' }, options, planned);
  const { placement, publish } = await context.placement.place([...draft.nodes.flatMap((node) => [node.plan, node.link.plan]), ...draft.sentinels.map((sentinel) => sentinel.plan)]);
  const topology = sentinelRedisContainers(store.docker, image, context.appImage, placement, options, planned);
  const started: ContainerHandle[] = [];
  let watcher: SentinelWatcher | undefined;

  const stopAll = async () => {
    await watcher?.stop();
    // Sentinels first: one left running while the nodes go would fail them over.
    const sentinelHandles = started.filter((handle) => topology.sentinels.some((sentinel) => sentinel.plan.service === handle.plan.service));
    await Promise.all(sentinelHandles.map((handle) => containers.remove(handle)));
    await Promise.all(started.filter((handle) => !sentinelHandles.includes(handle)).map((handle) => containers.remove(handle)));
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
  // Data nodes and Sentinels both answer PING on their first port.
  const runRedis = (plan: ContainerPlan, what: string) =>
    containers.withContainer(plan, publish.get(plan.service), (candidate) => {
      started.push(candidate);
      return waitForContainer(candidate, () => store.docker.probe(engine.publishHost, candidate.hostPort(plan.ports[0]!)), { what: `${what} container ${candidate.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
    });

  try {
    const nodes: StoreNode[] = planned.map((plan) => {
      const at = plan.role === 'sentinel' ? topology.sentinels.find((sentinel) => sentinel.id === plan.id)!.reachAt : topology.nodes.find((node) => node.id === plan.id)!.reachAt;
      return { id: plan.id, role: plan.role, address: nodeAddress(store.docker.url(at.host, at.port)) };
    });
    const dataNodes = nodes.filter((node) => node.role !== 'sentinel');
    const sentinels = nodes.filter((node) => node.role === 'sentinel');
    const planOf = new Map(dataNodes.map((node) => [node, topology.nodes.find((candidate) => candidate.id === node.id)!]));
    const sentinelPlanOf = new Map(sentinels.map((node) => [node, topology.sentinels.find((candidate) => candidate.id === node.id)!]));
    const running = new Set<StoreNode>();

    // Links first, so that a replica's first connection to its primary finds one.
    const links = new Map(await allSettledOrThrow(dataNodes.map(async (node) => [node, await runProxy(planOf.get(node)!.link.plan)] as const)));
    const handles = new Map<StoreNode, ContainerHandle>();
    for (const node of dataNodes) {
      handles.set(node, await runRedis(planOf.get(node)!.plan, `${store.name} ${node.id}`));
      running.add(node);
    }
    const server = (node: StoreNode) => hostAddress(handles.get(node)!, planOf.get(node)!.plan.ports[0]!);
    const primary = dataNodes.find((node) => node.role === 'primary')!;
    await Promise.all(dataNodes.filter((node) => node !== primary).map((node) => waitForSync(node, server(node), signal)));

    for (const node of sentinels) {
      const handle = await runRedis(sentinelPlanOf.get(node)!.plan, `redis Sentinel ${node.id}`);
      handles.set(node, handle);
      await setSentinelPeriods(node, hostAddress(handle, handle.plan.ports[0]!), profile);
      running.add(node);
      node.controls = {
        async kill(sig) {
          running.delete(node);
          await handle.kill(sig);
        },
        // The same container: the config it rewrote (the current primary, its peers) is in it.
        async start() {
          await handle.start();
          await waitForContainer(handle, () => store.docker.probe(engine.publishHost, handle.hostPort(handle.plan.ports[0]!)), { what: `redis Sentinel container ${handle.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
          await setSentinelPeriods(node, hostAddress(handle, handle.plan.ports[0]!), profile);
          running.add(node);
        },
        pause: () => handle.pause(),
        unpause: () => handle.unpause(),
      };
    }
    const sentinelAt = (node: StoreNode) => hostAddress(handles.get(node)!, sentinelPlanOf.get(node)!.plan.ports[0]!);
    await sentinelsReady(sentinels, sentinelAt, dataNodes.length - 1, signal);

    const owned = (watcher = new SentinelWatcher(primary, dataNodes, sentinels, {
      sentinel: sentinelAt,
      server,
      announced: (node) => planOf.get(node)!.link.reachAt,
      running: (node) => running.has(node),
    }));
    owned.start();

    for (const node of dataNodes) {
      node.controls = sentinelDataControls(node, owned, {
        timings,
        signal,
        async kill(sig) {
          running.delete(node);
          await handles.get(node)!.kill(sig);
        },
        async rejoin(following) {
          const old = handles.get(node)!;
          await containers.remove(old);
          started.splice(started.indexOf(old), 1);
          const replacement = await runRedis(topology.nodeContainer(node.id, following === node ? undefined : following.id), `${store.name} ${node.id}`);
          handles.set(node, replacement);
          if (following !== node) await waitForSync(node, server(node), signal);
          running.add(node);
        },
        pause: () => handles.get(node)!.pause(),
        unpause: () => handles.get(node)!.unpause(),
      });
    }

    const sentinelList = sentinels.map((node) => `${handles.get(node)!.name} ${sentinelAt(node).host}:${sentinelAt(node).port}`).join(', ');
    const described = `${image}: a primary and ${replication.replicas} replica${replication.replicas === 1 ? '' : 's'} in containers (${context.network} network; ${dataNodes.map((node) => `${node.id} ${handles.get(node)!.name} ${server(node).host}:${server(node).port}`).join(', ')}), asynchronous replication, ${store.docker.settings(options)}; ${sentinels.length} Sentinel containers (${sentinelList}) monitoring it as "${SENTINEL_MASTER_NAME}", quorum ${QUORUM}; failover by Sentinel (${describeTimings(timings)}; down-after-milliseconds ${profile.downAfterMs}, failover-timeout ${profile.failoverTimeoutMs}${profile.debug ? `, info-period ${profile.debug.infoPeriodMs}, ping-period ${profile.debug.pingPeriodMs}` : ''}), apps find the primary through Sentinel`;
    return {
      name: store.name,
      description: described,
      nodes,
      endpoints: { app: { url: topology.url, nodes: nodes.map((node) => node.id) } },
      countEntries: () => countKeys(server(owned.primaryNode())),
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'sentinel',
        primary: () => owned.primaryNode().id,
        lag: () => lagOf(owned.primaryNode(), dataNodes, { server }, running),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, waitSignal) => owned.waitFor(kind, since, timeoutMs, waitSignal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
        async setLinkDelay(ms) {
          // As on the local runtime: no figure rests on a replica that left its link, or an app that talks through one.
          if (ms > 0) {
            await owned.checkLinksInUse();
            await onlyReplicationOnLink(owned.primaryNode(), server(owned.primaryNode()), links.get(owned.primaryNode())?.control);
          }
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
