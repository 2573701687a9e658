import { MONGO_FAILOVER_TIMINGS, replicaSetConfig, replicaSetUrl, type Member } from '../stores/mongo-replica-set.js';
import type { DockerStoreRecipe, ReplicationOptions, StoreNodePlan, StoreOptions } from '../stores/store.js';
import { listenOn, type ContainerPlan, type Placement } from './containers.js';

/** The replica set's name in containers: each run has a network (or ports) of its own, so no run's name clashes with another's. */
export const REPLICA_SET_NAME = 'hactl';
/** The database apps are given, as on the local runtime. */
const DATABASE = 'hactl';

/**
 * mongo:replica-set as containers: one `mongod --replSet` container per member, named in the
 * set's config by its service name (bridge) or 127.0.0.1 port (host), which the members and the
 * apps' driver both use; the apps' URL names every member and the set, so the driver follows
 * MongoDB's election itself. The config is what replSetInitiate is given: hactl sends it through
 * the official driver at run time, and a compose file's one-shot `mongo-init` service sends it
 * with mongosh. Pure data: the docker runtime creates these, `hactl compose` prints them.
 */
export function replicaSetContainers(recipe: DockerStoreRecipe, image: string, placement: Placement, options: StoreOptions & { replication: ReplicationOptions }, nodes: readonly StoreNodePlan[]) {
  const members = nodes.map((node) => {
    const service = `mongo-${node.id}`;
    const listen = listenOn(placement, service, 0, recipe.port);
    const run = recipe.container(listen, options);
    const plan: ContainerPlan = {
      role: 'store',
      service,
      image,
      // Three servers on one machine: each takes a small cache and oplog, as on the local runtime.
      command: [...run.command, '--replSet', REPLICA_SET_NAME, '--quiet', '--wiredTigerCacheSizeGB', '0.25', '--oplogSize', '64'],
      env: run.env,
      ports: [listen.port],
      ...(recipe.stopSignal ? { stopSignal: recipe.stopSignal } : {}),
    };
    const member: Member = { id: node.id, host: listen.reachAt, port: listen.port };
    return { id: node.id, plan, member };
  });
  const named = members.map(({ member }) => member);
  return {
    members,
    config: replicaSetConfig(REPLICA_SET_NAME, named, MONGO_FAILOVER_TIMINGS[options.replication.profile]),
    /** The URL apps are given: every member, the set, the variant's write concern. */
    url: replicaSetUrl(REPLICA_SET_NAME, named, DATABASE, options.replication.mode),
  };
}

/** How long a compose file's `mongo-init` keeps trying, a second apart, while the members start. */
const INIT_ATTEMPTS = 60;

/**
 * The one-shot service that initiates the set under compose (nothing of hactl runs there): mongosh,
 * which the mongo image carries, sends the same config to the first member, retried while the
 * members start, and does nothing on a set that is initiated already.
 */
export function replicaSetInitContainer(topology: ReturnType<typeof replicaSetContainers>, image: string): ContainerPlan {
  const first = topology.members[0]!.member;
  const script = `try { rs.status().ok } catch (error) { rs.initiate(${JSON.stringify(topology.config)}).ok }`;
  return {
    role: 'store',
    service: 'mongo-init',
    image,
    command: ['sh', '-c', `for attempt in $(seq 1 ${INIT_ATTEMPTS}); do mongosh --quiet --host ${first.host}:${first.port} --eval '${script}' && exit 0; sleep 1; done; exit 1`],
    env: {},
    ports: [],
  };
}

/** What a compose file of a mongo replica set says of its store, in its header. */
export function replicaSetComposeNotes(topology: ReturnType<typeof replicaSetContainers>): string[] {
  return [
    `The store is a MongoDB replica set "${REPLICA_SET_NAME}" of ${topology.members.length} members (${topology.members.map(({ plan }) => plan.service).join(', ')}), initiated by the one-shot`,
    'mongo-init service; apps are given every member and the set (and the variant\'s write concern), so their driver',
    'finds the primary and follows MongoDB\'s own election: stop the primary and within seconds another member is elected.',
    'Started again, a stopped member rejoins as a secondary.',
  ];
}
