import type Docker from 'dockerode';
import { errorMessage } from '../../platform/errors.js';
import { RUN_LABEL } from '../../topology/containers.js';
import { engineCall } from './engine.js';

export interface Removed {
  /** Names of what was removed (with dryRun: of what is there). */
  containers: string[];
  networks: string[];
  /** What could not be removed, and why. */
  failures: string[];
}

/**
 * Removes the containers (with their anonymous volumes) and networks hactl labelled for one run,
 * or for every run. Images are a cache, not a run's leftovers, and stay.
 */
export async function removeRunResources(docker: Docker, runId?: string, options: { dryRun?: boolean } = {}): Promise<Removed> {
  const label = runId ? `${RUN_LABEL}=${runId}` : RUN_LABEL;
  const removed: Removed = { containers: [], networks: [], failures: [] };
  const containers = await engineCall('list containers', docker.listContainers({ all: true, filters: { label: [label] } }));
  const containerResults = await Promise.allSettled(
    containers.map(async (info) => {
      const name = (info.Names[0] ?? info.Id).replace(/^\//, '');
      if (!options.dryRun) await engineCall(`remove container ${name}`, docker.getContainer(info.Id).remove({ force: true, v: true }));
      return name;
    }),
  );
  // Networks go after their containers: a network with endpoints cannot be removed.
  const networks = await engineCall('list networks', docker.listNetworks({ filters: { label: [label] } }));
  const networkResults = await Promise.allSettled(
    networks.map(async (info) => {
      if (!options.dryRun) await engineCall(`remove network ${info.Name}`, docker.getNetwork(info.Id).remove());
      return info.Name;
    }),
  );
  for (const result of containerResults) (result.status === 'fulfilled' ? removed.containers : removed.failures).push(result.status === 'fulfilled' ? result.value : errorMessage(result.reason));
  for (const result of networkResults) (result.status === 'fulfilled' ? removed.networks : removed.failures).push(result.status === 'fulfilled' ? result.value : errorMessage(result.reason));
  return removed;
}
