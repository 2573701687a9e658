import type { DockerStoreRecipe, StoreNodePlan, StoreOptions } from '../stores/store.js';
import { replicaOfArgs } from '../stores/redis-replication.js';
import { haproxyConfig } from '../balancer/haproxy/config.js';
import type { BalancerSettings } from '../balancer/settings.js';
import { balancerSettings, fillReplicaTemplate, replicaEnvironment, replicaTemplateValues, type Topology } from './plan.js';

/**
 * The containers of a topology, as pure data: what the docker runtime creates and what
 * `hactl compose` prints, from one plan so that the two cannot drift apart.
 */
export type NetworkMode = 'bridge' | 'host';

export interface ContainerPlan {
  role: 'store' | 'replica' | 'balancer';
  /** The compose service name; on a bridge network also the name other containers reach it by. */
  service: string;
  image: string;
  /** Arguments after the image's entrypoint. */
  command: string[];
  env: Record<string, string>;
  /** Ports it listens on, in its own network namespace. */
  ports: number[];
  stopSignal?: NodeJS.Signals;
  /** A replica's readiness path (2xx once ready); the demo app's is /health. */
  healthPath?: string;
  /** How long it may take to become ready (the user's --startup-timeout). */
  startupTimeoutMs?: number;
}

/** Where a service listens: on a bridge network every container has its own address, so fixed
 *  ports; on the host network they share 127.0.0.1 and each needs a port of its own. */
export interface Placement {
  network: NetworkMode;
  /** Host networking only: the ports given to a service, by service name. */
  hostPorts?: Record<string, number[]>;
}

/** Every container, network and image hactl makes carries this label; `hactl down` finds them by it. */
export const RUN_LABEL = 'io.hactl.run';

/** The demo app's base image unless `--image node=...` says otherwise (compose/Dockerfile's default too). */
export const DEFAULT_NODE_IMAGE = 'node:20-slim';

export const APP_PORT = 8080;
export const BALANCER_ADMIN_PORT = 8081;
export const APP_ENTRY = '/opt/hactl/demo-app.mjs';
export const BALANCER_ENTRY = '/opt/hactl/balancer.mjs';
export const FAULT_PROXY_ENTRY = '/opt/hactl/fault-proxy.mjs';
export const FAULT_PROXY_PORT = 7000;
export const FAULT_PROXY_ADMIN_PORT = 7001;
export const FAULT_PROXY_SERVICE = 'store-proxy';
/** HAProxy's own image runs as a user that may not bind ports below 1024. */
export const HAPROXY_PORT = 8080;
export const HAPROXY_ADMIN_PORT = 9999;
export const DEFAULT_HAPROXY_IMAGE = 'haproxy:2.6';
/** Docker's embedded DNS server on a user-defined network. */
const DOCKER_DNS = '127.0.0.11';

export function listenOn(placement: Placement, service: string, index: number, fixedPort: number) {
  if (placement.network === 'bridge') return { host: '0.0.0.0', reachAt: service, port: fixedPort };
  const port = placement.hostPorts?.[service]?.[index];
  if (port === undefined) throw new Error(`no host port planned for ${service}`);
  return { host: '127.0.0.1', reachAt: '127.0.0.1', port };
}

export function storeContainer(name: string, recipe: DockerStoreRecipe, image: string, placement: Placement, options: StoreOptions = {}) {
  const listen = listenOn(placement, name, 0, recipe.port);
  const run = recipe.container(listen, options);
  const plan: ContainerPlan = {
    role: 'store',
    service: name,
    image,
    command: run.command,
    env: run.env,
    ports: [listen.port],
    ...(recipe.stopSignal ? { stopSignal: recipe.stopSignal } : {}),
  };
  return { plan, url: recipe.url(listen.reachAt, listen.port) };
}

/** The port replicas listen on in their containers: the user's app says in its profile. */
export function appPort(topology: Topology): number {
  return topology.app.custom?.containerPort ?? APP_PORT;
}

export function replicaContainers(topology: Topology, appImage: string, placement: Placement, storeUrl: string | undefined): ContainerPlan[] {
  const custom = topology.app.custom;
  return topology.replicas.map((replica) => {
    const listen = listenOn(placement, replica.id, 0, appPort(topology));
    if (custom?.image !== undefined) {
      // The user's image runs its own command; it learns where to listen and where its store is
      // from PORT/HOST and its templated --app-env.
      const values = replicaTemplateValues(topology, replica, listen, storeUrl);
      return {
        role: 'replica',
        service: replica.id,
        image: custom.image,
        command: [],
        env: {
          PORT: String(listen.port),
          HOST: listen.host,
          HACTL_REPLICA_ID: replica.id,
          ...Object.fromEntries(Object.entries(custom.env).map(([key, value]) => [key, fillReplicaTemplate(value, values)])),
        },
        ports: [listen.port],
        healthPath: custom.healthPath,
        ...(custom.startupTimeoutMs !== undefined ? { startupTimeoutMs: custom.startupTimeoutMs } : {}),
      };
    }
    return {
      role: 'replica',
      service: replica.id,
      image: appImage,
      command: [APP_ENTRY],
      env: replicaEnvironment(topology, replica, listen, storeUrl),
      ports: [listen.port],
    };
  });
}

export function balancerContainer(topology: Topology, appImage: string, placement: Placement): ContainerPlan {
  const listen = listenOn(placement, 'balancer', 0, APP_PORT);
  const admin = listenOn(placement, 'balancer', 1, BALANCER_ADMIN_PORT);
  const targets = topology.replicas.map((replica) => {
    const target = listenOn(placement, replica.id, 0, appPort(topology));
    return { id: replica.id, host: target.reachAt, port: target.port };
  });
  return {
    role: 'balancer',
    service: 'balancer',
    image: appImage,
    command: [BALANCER_ENTRY],
    env: {
      // In a container the balancer may start before its replicas answer: ALB's initial state.
      HACTL_BALANCER_CONFIG: JSON.stringify({ ...balancerSettings(topology, { host: listen.host, port: listen.port }, targets), initialTargetHealth: 'initial' }),
      HACTL_BALANCER_ADMIN_PORT: String(admin.port),
    },
    ports: [listen.port, admin.port],
  };
}

/**
 * The fault proxy between replicas and store, in the demo app's image: it listens where replicas
 * can reach it and forwards to the store's address; toxics are set through its admin port.
 */
export function faultProxyContainer(appImage: string, placement: Placement, upstream: { host: string; port: number }, service = FAULT_PROXY_SERVICE) {
  const listen = listenOn(placement, service, 0, FAULT_PROXY_PORT);
  const admin = listenOn(placement, service, 1, FAULT_PROXY_ADMIN_PORT);
  const plan: ContainerPlan = {
    role: 'store',
    service,
    image: appImage,
    command: [FAULT_PROXY_ENTRY],
    env: {
      HACTL_FAULT_PROXY_LISTEN: `${listen.host}:${listen.port}`,
      HACTL_FAULT_PROXY_UPSTREAM: `${upstream.host}:${upstream.port}`,
      HACTL_FAULT_PROXY_ADMIN: `${admin.host}:${admin.port}`,
    },
    ports: [listen.port, admin.port],
  };
  return { plan, reachAt: { host: listen.reachAt, port: listen.port } };
}

/**
 * A real HAProxy in front of the replicas (`--balancer haproxy`): its config travels in the
 * environment and is written inside the container, so that a remote engine needs no file from
 * here. On a bridge network it keeps re-resolving replica names, which a restart may re-address.
 */
export function haproxyContainer(topology: Topology, image: string, placement: Placement): { plan: ContainerPlan; settings: BalancerSettings } {
  const listen = listenOn(placement, 'balancer', 0, HAPROXY_PORT);
  const admin = listenOn(placement, 'balancer', 1, HAPROXY_ADMIN_PORT);
  const targets = topology.replicas.map((replica) => {
    const target = listenOn(placement, replica.id, 0, appPort(topology));
    return { id: replica.id, host: target.reachAt, port: target.port };
  });
  const settings = balancerSettings(topology, { host: listen.host, port: listen.port }, targets);
  const config = haproxyConfig(settings, { host: admin.host, port: admin.port }, placement.network === 'bridge' ? { resolver: DOCKER_DNS } : {});
  const plan: ContainerPlan = {
    role: 'balancer',
    service: 'balancer',
    image,
    command: ['sh', '-c', 'printf "%s\n" "$HACTL_HAPROXY_CONFIG" > /tmp/haproxy.cfg && exec haproxy -db -f /tmp/haproxy.cfg'],
    env: { HACTL_HAPROXY_CONFIG: config },
    ports: [listen.port, admin.port],
  };
  return { plan, settings };
}

/** A replicated Redis's primary endpoint: the service apps are wired to, whichever node is primary. */
export const REDIS_ENDPOINT_SERVICE = 'redis-primary';

/**
 * A replicated Redis as containers (redis:replica): one container per node, a replication link
 * per node (a fault proxy the node's replicas connect through, where a delay is their lag) and the
 * primary endpoint (a fault proxy apps connect to, which hactl's failover re-points). Replicas
 * start following the primary through its link. Pure data, as the rest of this file: the docker
 * runtime creates these, `hactl compose` prints them.
 */
export function replicatedRedisContainers(recipe: DockerStoreRecipe, image: string, appImage: string, placement: Placement, options: StoreOptions, nodes: readonly StoreNodePlan[]) {
  const serviceOf = (id: string) => `redis-${id}`;
  const linkServiceOf = (id: string) => `redis-link-${id}`;
  const server = (id: string) => {
    const listen = listenOn(placement, serviceOf(id), 0, recipe.port);
    return { listen, reachAt: { host: listen.reachAt, port: listen.port } };
  };
  const links = new Map(nodes.map((node) => [node.id, faultProxyContainer(appImage, placement, server(node.id).reachAt, linkServiceOf(node.id))]));
  /** The container of node `id`, replicating `following` (a node id) through its link, or a primary. */
  const nodeContainer = (id: string, following: string | undefined): ContainerPlan => {
    const { listen } = server(id);
    const run = recipe.container(listen, options);
    return {
      role: 'store',
      service: serviceOf(id),
      image,
      command: [...run.command, ...replicaOfArgs(following === undefined ? undefined : links.get(following)!.reachAt)],
      env: run.env,
      ports: [listen.port],
      ...(recipe.stopSignal ? { stopSignal: recipe.stopSignal } : {}),
    };
  };
  const primary = nodes.find((node) => node.role === 'primary')!;
  const endpoint = faultProxyContainer(appImage, placement, server(primary.id).reachAt, REDIS_ENDPOINT_SERVICE);
  return {
    nodes: nodes.map((node) => ({ id: node.id, plan: nodeContainer(node.id, node.id === primary.id ? undefined : primary.id), reachAt: server(node.id).reachAt, link: links.get(node.id)! })),
    endpoint,
    /** The URL apps are given: the endpoint's. */
    url: recipe.url(endpoint.reachAt.host, endpoint.reachAt.port),
    nodeContainer,
  };
}
