import { allSettledOrThrow } from '../../platform/settled.js';
import { describeTimings } from '../../stores/replication/timings.js';
import { MONGO_FAILOVER_TIMINGS, writeConcernOf, type Member } from '../../stores/mongo-replica-set.js';
import { ASK_TIMEOUT_MS, askMember, countOnPrimary, initiate, lagOf, MemberClients, memberControls, ping, ReplicaSetWatch, waitForElected, waitForSecondary } from '../../stores/mongo-replication.js';
import { nodeAddress, type ReplicationOptions, type RunningStore, type StoreModule, type StoreNode, type StoreOptions } from '../../stores/store.js';
import { replicaSetContainers } from '../../topology/mongo-containers.js';
import { waitForContainer, type ContainerHandle } from './containers.js';
import type { DockerStoreContext } from './replicated-redis.js';

const READY_TIMEOUT_MS = 60_000;

/**
 * mongo:replica-set on the docker runtime, as startReplicaSet is on the local one: a `mongod
 * --replSet` container per member, the set's config naming each by its name on the run's network
 * (what the members and the apps' driver use), initiated by hactl through the official driver.
 * hactl reaches each member alone through its published port (directConnection), never as the
 * set: from here the names in the config do not resolve. MongoDB decides the failover; hactl
 * watches with the local topology's watch. A killed member's container is started again: its data
 * is in the container, and it rejoins as a secondary.
 */
export async function startReplicaSetContainers(context: DockerStoreContext, store: StoreModule, image: string, options: StoreOptions & { replication: ReplicationOptions }): Promise<RunningStore> {
  const { engine, containers, signal } = context;
  const replication = options.replication;
  const timings = MONGO_FAILOVER_TIMINGS[replication.profile];
  const planned = store.nodes(options);
  const draft = replicaSetContainers(store.docker, image, { network: 'bridge' }, options, planned);
  const { placement, publish } = await context.placement.place(draft.members.map(({ plan }) => plan));
  const topology = replicaSetContainers(store.docker, image, placement, options, planned);
  const started: ContainerHandle[] = [];
  const clients = new MemberClients();
  let watch: ReplicaSetWatch | undefined;

  const stopAll = async () => {
    await watch?.stop();
    await clients.close();
    await Promise.all(started.map((handle) => containers.remove(handle)));
  };

  try {
    const { MongoClient } = await import('mongodb');
    clients.create = (url) => new MongoClient(url, { serverSelectionTimeoutMS: ASK_TIMEOUT_MS, connectTimeoutMS: ASK_TIMEOUT_MS, socketTimeoutMS: 2 * ASK_TIMEOUT_MS });
    const nodes: StoreNode[] = topology.members.map(({ id, member }, i) => ({ id, role: planned[i]!.role, address: nodeAddress(`mongodb://${member.host}:${member.port}/?directConnection=true`) }));
    const planOf = new Map(nodes.map((node, i) => [node, topology.members[i]!]));
    const handles = new Map<StoreNode, ContainerHandle>();
    const running = new Set<StoreNode>();
    /** Where hactl asks a member: its published port. */
    const reach = (node: StoreNode): Member => ({ id: node.id, host: engine.publishHost, port: handles.get(node)!.hostPort(planOf.get(node)!.plan.ports[0]!) });
    const answers = (node: StoreNode, handle: ContainerHandle) =>
      waitForContainer(handle, () => ping(clients, { id: node.id, host: engine.publishHost, port: handle.hostPort(handle.plan.ports[0]!) }), { what: `mongod container ${handle.name}`, timeoutMs: READY_TIMEOUT_MS, signal });

    await allSettledOrThrow(
      nodes.map(async (node) => {
        const plan = planOf.get(node)!.plan;
        handles.set(node, await containers.withContainer(plan, publish.get(plan.service), (candidate) => {
          started.push(candidate);
          return answers(node, candidate);
        }));
        running.add(node);
      }),
    );

    await initiate(MongoClient, reach(nodes[0]!), nodes[0]!, topology.config);
    const primary = await waitForElected(clients, nodes.map(reach), nodes, signal);
    for (const node of nodes) node.role = node === primary ? 'primary' : 'replica';

    const owned = (watch = new ReplicaSetWatch(nodes, (node) => running.has(node), (node) => askMember(clients, reach(node)), primary));
    owned.start();

    for (const node of nodes) {
      const handle = handles.get(node)!;
      node.controls = memberControls(node, owned, {
        timings,
        signal,
        async kill(sig) {
          running.delete(node);
          await handle.kill(sig);
        },
        // The same container: its data is in it, as a restarted member keeps its own.
        async restart() {
          await handle.start();
          await answers(node, handle);
          running.add(node);
          await waitForSecondary(clients, reach(node), node, signal);
        },
        pause: () => handle.pause(),
        unpause: () => handle.unpause(),
      });
    }

    const byName = new Map(nodes.map((node) => [`${planOf.get(node)!.member.host}:${planOf.get(node)!.member.port}`, node.id]));
    const w = writeConcernOf(replication.mode);
    const described = `${image}: a replica set of ${nodes.length} members in containers (${context.network} network; ${nodes.map((node) => `${node.id} ${handles.get(node)!.name} ${reach(node).host}:${reach(node).port}`).join(', ')}), ${store.docker.settings(options)}, the app's write concern w: ${w === 'majority' ? 'majority (acknowledged once a majority has the write)' : '1 (acknowledged by the primary alone)'}; the driver follows MongoDB's own election (${describeTimings(timings)})`;
    return {
      name: store.name,
      description: described,
      nodes,
      endpoints: { app: { url: topology.url, nodes: nodes.map((node) => node.id) } },
      countEntries: () => countOnPrimary(clients, reach(owned.primary())),
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'election',
        primary: () => owned.primary().id,
        lag: () => lagOf(clients, reach(owned.primary()), (name) => byName.get(name)),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, waitSignal) => owned.waitFor(kind, since, timeoutMs, waitSignal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
