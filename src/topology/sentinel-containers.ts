import { formatSentinelUrl } from '../app/stores/sentinel-url.js';
import { SENTINEL_MASTER_NAME, SENTINEL_PROFILES, sentinelConfig } from '../stores/redis-sentinel.js';
import type { DockerStoreRecipe, ReplicationOptions, StoreNodePlan, StoreOptions } from '../stores/store.js';
import { listenOn, REDIS_ENDPOINT_SERVICE, replicatedRedisContainers, type ContainerPlan, type Placement } from './containers.js';

/** Sentinel's own port, on a bridge network. */
export const SENTINEL_PORT = 26379;
/** Where a Sentinel container writes the config it is given (and rewrites as it learns). */
const SENTINEL_DIR = '/tmp';

/**
 * redis:sentinel as containers: the data nodes and replication links of redis:replica, each node
 * announcing its link (as the local topology's processes do), and three Sentinel containers that
 * monitor the primary at its link by name. Sentinel resolves and gives out names (see
 * sentinelConfig), so what it tells the apps is an address on the run's network that they can
 * use, whatever IP a replaced node's container gets; the app's URL maps each link to its node,
 * so that only replication and the Sentinels go through the links. No primary endpoint: the
 * apps ask the Sentinels. Pure data: the docker runtime creates these, `hactl compose` prints them.
 */
export function sentinelRedisContainers(recipe: DockerStoreRecipe, image: string, appImage: string, placement: Placement, options: StoreOptions & { replication: ReplicationOptions }, nodes: readonly StoreNodePlan[]) {
  const dataPlans = nodes.filter((node) => node.role !== 'sentinel');
  const sentinelPlans = nodes.filter((node) => node.role === 'sentinel');
  // redis:replica's plan also has a primary endpoint, which no one here starts: on the host network it gets no ports of its own.
  const withoutEndpoint: Placement = placement.network === 'host' ? { ...placement, hostPorts: { [REDIS_ENDPOINT_SERVICE]: [0, 0], ...placement.hostPorts } } : placement;
  const data = replicatedRedisContainers(recipe, image, appImage, withoutEndpoint, options, dataPlans);
  const linkOf = (id: string) => data.nodes.find((node) => node.id === id)!.link;
  const announce = (id: string) => ['--replica-announce-ip', linkOf(id).reachAt.host, '--replica-announce-port', String(linkOf(id).reachAt.port)];
  /** Node `id`'s container, replicating `following` through its link (or a primary), announcing its own link. */
  const nodeContainer = (id: string, following: string | undefined): ContainerPlan => {
    const plan = data.nodeContainer(id, following);
    return { ...plan, command: [...plan.command, ...announce(id)] };
  };
  const primary = dataPlans.find((node) => node.role === 'primary')!;
  const profile = SENTINEL_PROFILES[options.replication.profile];
  const sentinels = sentinelPlans.map((node) => {
    const service = `redis-${node.id}`;
    const listen = listenOn(placement, service, 0, SENTINEL_PORT);
    const plan: ContainerPlan = {
      role: 'store',
      service,
      image,
      // Sentinel insists on a config file it can rewrite: written from the environment, inside the
      // container, so that a remote engine needs no file from here (the redis image's entrypoint runs `sh` as given).
      command: ['sh', '-c', `printf '%s\\n' "$HACTL_SENTINEL_CONFIG" > ${SENTINEL_DIR}/sentinel.conf && exec redis-server ${SENTINEL_DIR}/sentinel.conf --sentinel`],
      env: { HACTL_SENTINEL_CONFIG: sentinelConfig({ host: listen.host, port: listen.port }, SENTINEL_DIR, linkOf(primary.id).reachAt, profile) },
      ports: [listen.port],
    };
    return { id: node.id, plan, reachAt: { host: listen.reachAt, port: listen.port } };
  });
  const url = formatSentinelUrl({
    sentinels: sentinels.map((sentinel) => sentinel.reachAt),
    masterName: SENTINEL_MASTER_NAME,
    map: Object.fromEntries(data.nodes.map((node) => [`${node.link.reachAt.host}:${node.link.reachAt.port}`, node.reachAt])),
  });
  return {
    nodes: data.nodes.map((node) => ({ ...node, plan: nodeContainer(node.id, node.id === primary.id ? undefined : primary.id) })),
    sentinels,
    /** The URL apps are given: the Sentinels, the name they monitor, and each link mapped to its node. */
    url,
    nodeContainer,
  };
}

/** What a compose file of redis:sentinel says of its store, in its header. */
export function sentinelComposeNotes(topology: ReturnType<typeof sentinelRedisContainers>): string[] {
  const [primary, ...replicas] = topology.nodes;
  return [
    `The store is a primary (${primary!.plan.service}) and ${replicas.length} replica${replicas.length === 1 ? '' : 's'} started with --replicaof, each reached by the others`,
    `through its replication link (redis-link-<node>), which it announces as its address; ${topology.sentinels.length} Sentinels (${topology.sentinels.map(({ plan }) => plan.service).join(', ')})`,
    `monitor the primary at its link by service name, and apps ask them where the primary is (${topology.url}).`,
    'The Sentinels fail over by themselves, under compose as under hactl: stop the primary and within seconds a replica is',
    'promoted and the apps follow. Started again, the old primary is an empty primary until the Sentinels make it a replica of',
    'the new one (a few seconds later); apps do not reach it meanwhile, as the Sentinels no longer name it.',
    "Only once every Sentinel knows the replicas (from the primary's INFO, asked every 10 s) and the other Sentinels (hello",
    'messages, every 2 s) can they fail over: a primary stopped sooner after `up` has no replica to promote, and the apps wait',
    'until it is started again, empty (hactl\'s own runs wait for this before any fault). Ready means num-slaves 1 or more and',
    `num-other-sentinels ${topology.sentinels.length - 1} in: docker compose exec ${topology.sentinels[0]!.plan.service} redis-cli -p ${SENTINEL_PORT} SENTINEL master ${SENTINEL_MASTER_NAME}`,
  ];
}
