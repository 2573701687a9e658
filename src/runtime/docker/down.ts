import type Docker from 'dockerode';
import { withTimeout } from '../../time.js';
import { RUN_LABEL } from './engine.js';

export interface Removed {
  containers: string[];
  networks: string[];
}

const REMOVE_TIMEOUT_MS = 15_000;

/**
 * Removes the containers (with their anonymous volumes) and networks hactl labelled for one run,
 * or for every run. Images are a cache, not a run's leftovers, and stay.
 */
export async function removeRunResources(docker: Docker, runId?: string): Promise<Removed> {
  const label = runId ? `${RUN_LABEL}=${runId}` : RUN_LABEL;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map((info) =>
      withTimeout(docker.getContainer(info.Id).remove({ force: true, v: true }), REMOVE_TIMEOUT_MS, () => new Error('timeout')).catch(() => undefined),
    ),
  );
  // Networks go after their containers: a network with endpoints cannot be removed.
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  await Promise.all(networks.map((info) => docker.getNetwork(info.Id).remove().catch(() => undefined)));
  return {
    containers: containers.map((info) => (info.Names[0] ?? info.Id).replace(/^\//, '')),
    networks: networks.map((info) => info.Name),
  };
}
