import type Docker from 'dockerode';
import { EnvironmentError } from '../../platform/errors.js';
import type { Availability } from '../../stores/store.js';
import { stores } from '../../stores/index.js';
import { DEFAULT_HAPROXY_IMAGE, DEFAULT_NODE_IMAGE } from '../../topology/containers.js';
import type { RunNeeds } from '../runtime.js';
import { demoAppImage, ensureImage, ImageUnavailableError, type ImageOptions } from './images.js';
import { engineCall } from './engine.js';
import type { DockerSettings } from './settings.js';

/** The images a run uses, by what uses them: pure, from the run's plans. */
export interface ImagesNeeded {
  /** The user's --app-image, when the replicas run it. */
  app?: string;
  /**
   * Why the demo app image is built, or undefined when nothing of the run uses it: the demo app's
   * replicas, hactl's balancer in a container, the fault proxy before a store, a replicated
   * store's links and primary endpoint (fault proxies too).
   */
  demo?: string;
  /** The Node base image: the demo app's, and the reaper's (any image with `node` runs it). */
  node: string;
  /** Store images by --image key: a missing one skips its strategy's rows, not the run. */
  stores: Map<string, string>;
  /** HAProxy's image, with --balancer haproxy. */
  haproxy?: string;
}

export function imagesNeeded(needs: RunNeeds | undefined, settings: DockerSettings, balancerInContainer: boolean): ImagesNeeded {
  const node = settings.images.node ?? DEFAULT_NODE_IMAGE;
  // Without the run's plans, everything a run might use: the demo image as before.
  if (!needs) return { demo: 'the run did not say what it uses', node, stores: new Map() };
  const { topologies } = needs;
  const app = topologies.find((topology) => topology.app.custom?.image !== undefined)?.app.custom?.image;
  const demoUses = [
    topologies.some((topology) => topology.app.custom?.image === undefined) && 'the demo app',
    balancerInContainer && topologies.some((topology) => topology.balancer.kind === 'hactl') && "hactl's balancer in a container",
    needs.storeProxy && topologies.some((topology) => topology.store !== undefined) && 'the store fault proxy',
    topologies.some((topology) => topology.store !== undefined && topology.storeOptions.replication !== undefined) && "a replicated store's links and primary endpoint",
  ].filter((use): use is string => typeof use === 'string');
  const storeImages = new Map<string, string>();
  for (const topology of topologies) {
    if (topology.store === undefined) continue;
    const { key, default: fallback } = stores[topology.store].docker.image;
    storeImages.set(key, settings.images[key] ?? fallback);
  }
  return {
    ...(app !== undefined ? { app } : {}),
    ...(demoUses.length > 0 ? { demo: demoUses.join(', ') } : {}),
    node,
    stores: storeImages,
    ...(topologies.some((topology) => topology.balancer.kind === 'haproxy') ? { haproxy: settings.images.haproxy ?? DEFAULT_HAPROXY_IMAGE } : {}),
  };
}

/** What preparing the images gave: the demo image's tag if built, the app's port, and which images could be had. */
export interface PreparedImages {
  demo?: string;
  /** The port the user's image EXPOSEs, when it states exactly one (or 8080 among several). */
  appExposedPort?: number;
  /** The ports the user's image EXPOSEs, for messages. */
  appExposedPorts: number[];
  /** Store and HAProxy images by image name: available, or why not and the fix. */
  availability: Map<string, Availability>;
  /** The Node base image, when it could be had (the reaper runs from it). */
  node?: string;
}

/**
 * Every image the run needs, checked (and pulled when missing) once, before anything starts. The
 * run cannot go on without its app's image or the demo image: those throw (exit 3, the fix said);
 * a store's or HAProxy's image only skips the rows that use it, as found here.
 */
export async function prepareImages(docker: Docker, needed: ImagesNeeded, options: ImageOptions): Promise<PreparedImages> {
  const prepared: PreparedImages = { availability: new Map(), appExposedPorts: [] };
  if (needed.app !== undefined) {
    try {
      await ensureImage(docker, needed.app, 'app', options);
    } catch (error) {
      if (error instanceof ImageUnavailableError) {
        throw new EnvironmentError(`--app-image ${needed.app} is not on the Docker engine and could not be pulled (${error.why}); build it there (docker build -t ${needed.app} .), log in to its registry (docker login), or check the name`);
      }
      throw error;
    }
    const exposed = (await engineCall(`inspect image ${needed.app}`, docker.getImage(needed.app).inspect(), { signal: options.signal })).Config?.ExposedPorts ?? {};
    prepared.appExposedPorts = Object.keys(exposed)
      .filter((key) => key.endsWith('/tcp') || !key.includes('/'))
      .map((key) => Number(key.split('/')[0]))
      .sort((a, b) => a - b);
    const port = exposedAppPort(prepared.appExposedPorts);
    if (port !== undefined) prepared.appExposedPort = port;
  }
  if (needed.demo !== undefined) prepared.demo = await demoAppImage(docker, needed.node, options);
  for (const image of new Set([...needed.stores.values(), ...(needed.haproxy ? [needed.haproxy] : [])])) {
    const key = [...needed.stores].find(([, name]) => name === image)?.[0] ?? 'haproxy';
    prepared.availability.set(image, await availabilityOf(docker, image, key, options));
  }
  // Ensured already on the way to the demo image; else only the reaper needs it, and can go without.
  if (needed.demo !== undefined) prepared.node = needed.node;
  else if ((await availabilityOf(docker, needed.node, 'node', options)).available) prepared.node = needed.node;
  return prepared;
}

/** The port an image's EXPOSE lines name: the one, or 8080 (hactl's default) among several; none when they do not decide. */
export function exposedAppPort(ports: readonly number[]): number | undefined {
  if (ports.length === 1) return ports[0];
  return ports.includes(8080) ? 8080 : undefined;
}

export async function availabilityOf(docker: Docker, image: string, key: string, options: ImageOptions): Promise<Availability> {
  try {
    await ensureImage(docker, image, key, options);
    return { available: true, detail: image };
  } catch (error) {
    if (error instanceof ImageUnavailableError) return { available: false, reason: error.message, fix: error.fix };
    throw error;
  }
}
