import { fileURLToPath } from 'node:url';
import { UsageError } from '../platform/errors.js';
import { stringify } from 'yaml';
import type { StrategyChoice } from '../strategies.js';
import { stores } from '../stores/index.js';
import { dockerReplicationProblem } from '../stores/store.js';
import { APP_PORT, balancerContainer, DEFAULT_HAPROXY_IMAGE, DEFAULT_NODE_IMAGE, haproxyContainer, HAPROXY_PORT, replicaContainers, replicatedRedisContainers, RUN_LABEL, storeContainer, type ContainerPlan } from './containers.js';
import { planTopology, type CustomApp } from './plan.js';
import { sentinelComposeNotes, sentinelRedisContainers } from './sentinel-containers.js';
import { replicaSetComposeNotes, replicaSetContainers, replicaSetInitContainer } from './mongo-containers.js';
import { composePostgresStore } from './postgres-compose.js';

export interface ComposeOptions {
  strategy: StrategyChoice;
  replicas: number;
  /** Host port for the balancer, on 127.0.0.1. */
  port: number;
  /** Image overrides by key, as for `hactl run --image`. */
  images: Record<string, string>;
  /** A replicated store variant's replicas beside its primary (`--store-replicas`; absent: the variant's). */
  storeReplicas?: number;
  /** The user's app (--app-image, its profile, --app-env) in place of the demo app: its replicas and balancer are images only. */
  custom?: CustomApp & { image: string };
  /** The app profile's cookie name, for the balancer's app_cookie stickiness. */
  cookieName?: string;
  /** Where the demo app image is built from; absent, this hactl package's own folder, so that the file works wherever it is saved. */
  buildContext?: string;
}

/** The hactl package: compose/Dockerfile and the bundles the demo app image is built from. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

const APP_IMAGE = 'hactl/demo-app:compose';

/**
 * A docker-compose file of the topology `hactl run --runtime docker` builds for a strategy: the
 * same containers from the same plan, with hactl's balancer as a container in front.
 */
export function composeFile(options: ComposeOptions): string {
  const topology = planTopology(
    options.strategy,
    {
      replicas: options.replicas,
      balancerPort: options.port,
      ...(options.storeReplicas !== undefined ? { store: { replicas: options.storeReplicas } } : {}),
      ...(options.custom ? { custom: options.custom, healthPath: options.custom.healthPath, ...(options.cookieName ? { cookieName: options.cookieName } : {}) } : {}),
    },
    '${HACTL_SESSION_SECRET:-hactl-demo-secret}',
  );
  const { label } = options.strategy;
  const file = label.replace(':', '-');
  const placement = { network: 'bridge' as const };
  const store = topology.store ? stores[topology.store] : undefined;
  const replication = topology.storeOptions.replication;
  const problem = store && dockerReplicationProblem(store, topology.storeOptions);
  if (problem) throw new UsageError(`hactl compose: ${label}: ${problem}, not in compose files; use --runtime local`);
  const image = store ? (options.images[store.docker.image.key] ?? store.docker.image.default) : undefined;
  const storePlan = store && !replication ? storeContainer(store.name, store.docker, image!, placement, topology.storeOptions) : undefined;
  // Which compose topology: by store and by who decides its failover, as the docker runtime chooses its containers.
  const kind = store && replication ? `${store.name}/${replication.decidedBy ?? 'hactl'}` : undefined;
  const sentinel = kind === 'redis/sentinel' ? sentinelRedisContainers(store!.docker, image!, APP_IMAGE, placement, { ...topology.storeOptions, replication: replication! }, store!.nodes(topology.storeOptions)) : undefined;
  const replicaSet = kind === 'mongo/election' ? replicaSetContainers(store!.docker, image!, placement, { ...topology.storeOptions, replication: replication! }, store!.nodes(topology.storeOptions)) : undefined;
  const replicatedPostgres = kind === 'postgres/hactl' ? composePostgresStore(store!.docker, image!, APP_IMAGE, topology.storeOptions, store!.nodes(topology.storeOptions)) : undefined;
  const replicated = sentinel ?? (kind === 'redis/hactl' ? replicatedRedisContainers(store!.docker, image!, APP_IMAGE, placement, topology.storeOptions, store!.nodes(topology.storeOptions)) : undefined);
  if (kind && !replicated && !replicaSet && !replicatedPostgres) throw new UsageError(`hactl compose: ${label}: a replicated ${store!.name} whose failover is ${replication!.decidedBy ?? 'hactl'}'s has no compose topology; use --runtime local`);
  const endpoint = replicated && 'endpoint' in replicated ? replicated.endpoint : undefined;
  const storeUrl = storePlan?.url ?? replicated?.url ?? replicaSet?.url ?? replicatedPostgres?.url;
  const replicas = replicaContainers(topology, APP_IMAGE, placement, storeUrl);
  // A user's app gets HAProxy in front (the image of `--balancer haproxy`), so that nothing of it is built from hactl's sources.
  const custom = options.custom !== undefined;
  const balancer = custom ? haproxyContainer(topology, options.images.haproxy ?? DEFAULT_HAPROXY_IMAGE, placement).plan : balancerContainer(topology, APP_IMAGE, placement);

  const services: Record<string, object> = {};
  if (storePlan) services[storePlan.plan.service] = service(storePlan.plan, []);
  // The links and the endpoint are fault proxies, in the demo app's image: built like the replicas.
  for (const node of replicated?.nodes ?? []) services[node.plan.service] = service(node.plan, node === replicated!.nodes[0] ? [] : [replicated!.nodes[0]!.link.plan.service]);
  for (const node of replicated?.nodes ?? []) services[node.link.plan.service] = { ...service(node.link.plan, [node.plan.service]), ...build(options) };
  if (endpoint) services[endpoint.plan.service] = { ...service(endpoint.plan, [replicated!.nodes[0]!.plan.service]), ...build(options) };
  // The Sentinels resolve the primary's link by name when they read their config: it must exist by then.
  for (const { plan } of sentinel?.sentinels ?? []) services[plan.service] = service(plan, [sentinel!.nodes[0]!.plan.service, sentinel!.nodes[0]!.link.plan.service]);
  for (const { plan } of replicaSet?.members ?? []) services[plan.service] = service(plan, []);
  const init = replicaSet && replicaSetInitContainer(replicaSet, image!);
  if (init) services[init.service] = { ...service(init, replicaSet!.members.map(({ plan }) => plan.service)), restart: 'no' };
  for (const entry of replicatedPostgres?.services ?? []) services[entry.plan.service] = { ...service(entry.plan, entry.dependsOn), ...(entry.plan.image === APP_IMAGE ? build(options) : {}) };
  const storeServices = storePlan ? [storePlan.plan.service] : endpoint ? [endpoint.plan.service] : init ? [init.service] : replicatedPostgres ? [replicatedPostgres.endpoint] : (sentinel?.sentinels.map(({ plan }) => plan.service) ?? []);
  // A demo app that finds no primary within 2 s exits: until mongo-init's set has elected one, Compose starts it again.
  const restart = init ? { restart: 'on-failure' } : {};
  for (const replica of replicas) services[replica.service] = { ...service(replica, [...storeServices]), ...(custom ? {} : build(options)), ...restart };
  services.balancer = {
    ...service(balancer, replicas.map((replica) => replica.service)),
    ...(custom ? {} : build(options)),
    ports: [`127.0.0.1:${options.port}:${custom ? HAPROXY_PORT : APP_PORT}`],
  };

  const command = `hactl compose --strategy ${label} --replicas ${options.replicas}${options.port === APP_PORT ? '' : ` --port ${options.port}`}${options.storeReplicas !== undefined ? ` --store-replicas ${options.storeReplicas}` : ''}${custom ? ` --app-image ${options.custom!.image}` : ''}`;
  const builds = Object.values(services).some((entry) => 'build' in entry);
  const header = [
    `Generated by \`${command}\`; do not edit by hand.`,
    `Strategy ${label}: ${[options.strategy.strategy.summary, options.strategy.variant.summary].filter(Boolean).join('; ')}.`,
    ...(custom
      ? [
          `Your app's image ${options.custom!.image} runs as each replica, with its own command; PORT (${replicas[0]!.ports[0]}, the port it must listen on),`,
          'HOST and your --app-env tell it where to listen and where its store is. HAProxy balances in front of them (hactl\'s',
          `balancer is built from hactl's sources; HAProxy is an image). Save this file anywhere and run:`,
          `  docker compose -p hactl-${file} -f ${file}.yaml up${builds ? ' --build' : ''}`,
          `then use your app through the balancer at http://127.0.0.1:${options.port}.`,
        ]
      : options.buildContext === '..'
        ? [
            'From the repository root, after `npm install` (which builds dist/bundle):',
            `  docker compose -p hactl-${file} -f compose/${file}.yaml up --build`,
          ]
        : [
            `The demo app image is built from the hactl package at ${options.buildContext ?? PACKAGE_ROOT}; save this file anywhere and run:`,
            `  docker compose -p hactl-${file} -f ${file}.yaml up --build`,
          ]),
    ...(custom
      ? []
      : [
          `then log in and read through the balancer at http://127.0.0.1:${options.port}:`,
          `  curl -c jar -H 'content-type: application/json' -d '{"userId":"u1","userNm":"Kim"}' 127.0.0.1:${options.port}/login`,
          `  curl -b jar 127.0.0.1:${options.port}/session`,
        ]),
    ...(sentinel ? sentinelComposeNotes(sentinel) : []),
    ...(replicaSet ? replicaSetComposeNotes(replicaSet) : []),
    ...(endpoint
      ? [
          `The store is a primary (${replicated!.nodes[0]!.plan.service}) and ${replicated!.nodes.length - 1} replica${replicated!.nodes.length === 2 ? '' : 's'} started with --replicaof, each reached by the`,
          `others through its replication link (redis-link-<node>), and apps connect to the primary endpoint ${endpoint.plan.service}.`,
          'The failover is hactl\'s (`hactl run --runtime docker` runs it in hactl): none runs under compose. A',
          `stopped ${replicated!.nodes[0]!.plan.service} stays stopped, no replica is promoted and the endpoint keeps pointing at it;`,
          'the apps fail until it is started again, and then it is empty (persistence off) and its replicas copy that.',
        ]
      : []),
    ...(replicatedPostgres?.notes ?? []),
  ];
  // `version` rather than `name`: Compose v2 ignores it, docker-compose v1 needs it. YAML 1.1
  // rules, so that strings such as `no` are quoted for readers that would take them as booleans.
  const body = stringify({ version: '3.8', services }, { lineWidth: 0, version: '1.1' });
  return `${header.map((line) => `# ${line}`).join('\n')}\n${body}`;
}

function service(plan: ContainerPlan, dependsOn: string[]): Record<string, unknown> {
  return {
    image: plan.image,
    // None for a user's image: its own command runs (an empty list would replace it with nothing).
    // Compose substitutes $VARIABLES in the file itself; a command's are the container shell's ($$).
    ...(plan.command.length > 0 ? { command: plan.command.map((part) => part.replaceAll('$', '$$$$')) } : {}),
    ...(Object.keys(plan.env).length > 0 ? { environment: plan.env } : {}),
    ...(plan.stopSignal ? { stop_signal: plan.stopSignal } : {}),
    ...(dependsOn.length > 0 ? { depends_on: dependsOn } : {}),
    // Not the run label: `hactl down` removes what hactl runs left, not a stack the user started.
    labels: { [`${RUN_LABEL}.compose`]: plan.service },
  };
}

function build(options: ComposeOptions) {
  return { build: { context: options.buildContext ?? PACKAGE_ROOT, dockerfile: 'compose/Dockerfile', args: { NODE_IMAGE: options.images.node ?? DEFAULT_NODE_IMAGE } } };
}
