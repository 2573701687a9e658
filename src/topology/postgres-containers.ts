import { NODE_SETTINGS } from '../stores/postgres-replication.js';
import type { DockerStoreRecipe, StoreNodePlan, StoreOptions } from '../stores/store.js';
import { faultProxyContainer, listenOn, type ContainerPlan, type Placement } from './containers.js';

/** A replicated PostgreSQL's primary endpoint: the service apps are wired to, whichever node is primary. */
export const POSTGRES_ENDPOINT_SERVICE = 'postgres-primary';

/**
 * Who may connect to a node: everyone, replication included, without a password, as the
 * single-node store's POSTGRES_HOST_AUTH_METHOD=trust lets everyone in; replication connections
 * match no `all` line, and a standby (or the node a failover promotes) comes through a link container.
 */
export const REPLICATION_HBA = ['# Written by hactl: clients and standbys from any address, without a password', 'local all all trust', 'host all all all trust', 'host replication all all trust'];

/**
 * A replicated PostgreSQL as containers (postgres:standby, postgres:sync-standby): one container
 * per node, a replication link per node (a fault proxy its standbys connect through, where a delay
 * is their lag) and the primary endpoint (a fault proxy apps connect to, which hactl's failover
 * re-points). Every node runs the same command (streaming replication's settings, and on a
 * sync-standby store `synchronous_standby_names`, which a promoted standby needs too); what makes a
 * node a standby is its data directory, which the docker runtime copies from the primary and a
 * compose file has pg_basebackup fetch (postgres-compose.ts). Pure data: the docker runtime
 * creates these, `hactl compose` prints them.
 */
export function replicatedPostgresContainers(recipe: DockerStoreRecipe, image: string, appImage: string, placement: Placement, options: StoreOptions, nodes: readonly StoreNodePlan[]) {
  const sync = options.replication?.mode === 'sync';
  const serviceOf = (id: string) => `postgres-${id}`;
  const server = (id: string) => {
    const listen = listenOn(placement, serviceOf(id), 0, recipe.port);
    return { listen, reachAt: { host: listen.reachAt, port: listen.port } };
  };
  const links = new Map(nodes.map((node) => [node.id, faultProxyContainer(appImage, placement, server(node.id).reachAt, `postgres-link-${node.id}`)]));
  const nodeContainer = (id: string): ContainerPlan => {
    const { listen } = server(id);
    const run = recipe.container(listen, options);
    const settings = [...NODE_SETTINGS, ...(sync ? ['synchronous_standby_names=*'] : [])];
    return {
      role: 'store',
      service: serviceOf(id),
      image,
      command: [...run.command, ...settings.flatMap((setting) => ['-c', setting])],
      env: run.env,
      ports: [listen.port],
      ...(recipe.stopSignal ? { stopSignal: recipe.stopSignal } : {}),
    };
  };
  const primary = nodes.find((node) => node.role === 'primary')!;
  const endpoint = faultProxyContainer(appImage, placement, server(primary.id).reachAt, POSTGRES_ENDPOINT_SERVICE);
  return {
    nodes: nodes.map((node) => ({ id: node.id, role: node.role, plan: nodeContainer(node.id), reachAt: server(node.id).reachAt, link: links.get(node.id)! })),
    endpoint,
    /** The URL apps are given: the endpoint's. */
    url: recipe.url(endpoint.reachAt.host, endpoint.reachAt.port),
    nodeContainer,
  };
}
