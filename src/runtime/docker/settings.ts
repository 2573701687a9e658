import { oneOf, type FlagSpec } from '../../platform/flag.js';
import { UsageError } from '../../platform/errors.js';
import { stores } from '../../stores/index.js';
import type { NetworkMode } from '../../topology/containers.js';
import type { RuntimeModule } from '../runtime.js';

/**
 * --runtime docker as the CLI knows it: its flags and settings. Kept apart from the runtime
 * itself (../docker.ts), which loads the Docker client: that costs every command a tenth of a
 * second, and is loaded only when a run uses Docker.
 */

/** auto: in hactl with a local engine, in a container with a remote one (hactl cannot follow replica ports there). */
export const BALANCER_PLACEMENTS = ['auto', 'hactl', 'container'] as const;

/** What the docker runtime needs beyond a topology. */
export interface DockerSettings {
  network: NetworkMode;
  /** Image overrides by key: `node` (the demo app's base), `redis`, `postgres`, `mongo`. */
  images: Record<string, string>;
  /** Where the balancer runs: in the hactl process, or in a container beside the replicas (`auto` decided at parse). */
  balancer: Exclude<(typeof BALANCER_PLACEMENTS)[number], 'auto'>;
}

/** Image keys for --image: the demo app's Node base image, one per store, and HAProxy's. */
export const IMAGE_KEYS = ['node', ...Object.values(stores).map((store) => store.docker.image.key), 'haproxy'];

export const DOCKER_FLAGS = [
  { key: 'dockerNetwork', option: '--docker-network <mode>', value: 'text', help: 'docker: bridge (a network of the run\'s own; default) or host (127.0.0.1 ports)' },
  { key: 'image', option: '--image <key=image>', value: 'pairs', help: 'docker: use this image for node (the demo app\'s base), redis, postgres, mongo or haproxy; repeatable' },
  { key: 'dockerBalancer', option: '--docker-balancer <where>', value: 'text', help: 'docker: run the balancer in hactl, or in a container beside the replicas (default: auto, in hactl unless the engine is remote)' },
] as const satisfies readonly FlagSpec[];

export const APP_IMAGE_FLAG = { key: 'appImage', option: '--app-image <image>', value: 'text', help: 'docker: run each replica of your app from this image (PORT tells it where to listen: the profile\'s containerPort, else the port the image EXPOSEs, else 8080)' } as const satisfies FlagSpec;

export const dockerRuntime: RuntimeModule<DockerSettings> = {
  name: 'docker',
  flags: DOCKER_FLAGS,
  refuseFlags: (_given, runtime) => `--image, --docker-network and --docker-balancer apply to --runtime docker; this run uses --runtime ${runtime}`,
  app: { flag: APP_IMAGE_FLAG, usage: '--app-image IMAGE', runs: 'as a container' },
  traits: { warmUpByDefault: true, logsOutUsers: false, measuresOverhead: true, namesReplicas: true, ownApp: false },
  parse: (flags, env) => ({
    network: oneOf('--docker-network', flags.dockerNetwork ?? 'bridge', ['bridge', 'host'] as const),
    images: parseImages(flags.image ?? [], env),
    balancer: placeBalancer(oneOf('--docker-balancer', flags.dockerBalancer ?? 'auto', BALANCER_PLACEMENTS), env),
  }),
  report: (settings) => ({ settings: { docker: settings } }),
  create: async (options) => (await import('../docker.js')).createDockerRuntime(options),
};

/**
 * `auto` made definite, so that the report says where the balancer ran: beside the replicas when
 * DOCKER_HOST names an engine on another machine (hactl cannot follow replica ports there), else in hactl.
 */
function placeBalancer(where: (typeof BALANCER_PLACEMENTS)[number], env: NodeJS.ProcessEnv): DockerSettings['balancer'] {
  if (where !== 'auto') return where;
  const host = env.DOCKER_HOST;
  return host && !/^(unix|npipe):\/\//.test(host) ? 'container' : 'hactl';
}

/** --image KEY=IMAGE pairs over HACTL_IMAGE_<KEY> variables (`hactl compose` takes them too). */
export function parseImages(pairs: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const images: Record<string, string> = {};
  for (const key of IMAGE_KEYS) {
    const fromEnv = env[`HACTL_IMAGE_${key.toUpperCase()}`];
    if (fromEnv) images[key] = fromEnv;
  }
  for (const pair of pairs) {
    const match = /^([a-z]+)=(\S+)$/.exec(pair.trim());
    if (!match || !IMAGE_KEYS.includes(match[1]!)) {
      throw new UsageError(`--image: expected KEY=IMAGE with KEY one of ${IMAGE_KEYS.join(', ')}, got "${pair}"`);
    }
    images[match[1]!] = match[2]!;
  }
  return images;
}
