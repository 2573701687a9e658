import type Docker from 'dockerode';
import { RUN_LABEL } from '../../topology/containers.js';
import { engineCall } from './engine.js';
import { OWNER_LABEL, ownerGone } from './owner.js';
import { REAPER_ROLE } from './reaper.js';

/** One labelled thing on the engine, as the leftover check sees it. */
export interface Labelled {
  kind: 'container' | 'network';
  name: string;
  labels: Record<string, string>;
  running: boolean;
}

/** A run whose containers or networks are still on the engine though the run is gone. */
export interface LeftRun {
  runId: string;
  names: string[];
}

/**
 * Runs that left things on the engine, and are gone. A run is alive while its reaper runs (the
 * reaper ends with hactl's connection), or while the hactl process its labels name runs on this
 * machine. A run of an older hactl (no reaper, no owner label) counts as gone only when nothing
 * of it runs any more: a run still under way is never reported.
 */
export function leftRuns(things: readonly Labelled[], ownRunId: string, gone: (owner: string | undefined) => boolean = ownerGone): LeftRun[] {
  const byRun = new Map<string, Labelled[]>();
  for (const thing of things) {
    const runId = thing.labels[RUN_LABEL];
    if (!runId || runId === ownRunId) continue;
    byRun.set(runId, [...(byRun.get(runId) ?? []), thing]);
  }
  const left: LeftRun[] = [];
  for (const [runId, all] of byRun) {
    if (all.some((thing) => thing.kind === 'container' && thing.running && thing.labels[`${RUN_LABEL}.role`] === REAPER_ROLE)) continue;
    const owners = all.map((thing) => thing.labels[OWNER_LABEL]).filter((label): label is string => label !== undefined);
    const isGone = owners.length > 0 ? owners.every((label) => gone(label)) : !all.some((thing) => thing.running);
    if (isGone) left.push({ runId, names: all.map((thing) => `${thing.kind} ${thing.name}`).sort() });
  }
  return left.sort((a, b) => a.runId.localeCompare(b.runId));
}

/** Lists the engine's labelled containers and networks and finds the runs that left them. */
export async function findLeftRuns(docker: Docker, ownRunId: string, signal?: AbortSignal): Promise<LeftRun[]> {
  const filters = { label: [RUN_LABEL] };
  const [containers, networks] = await Promise.all([
    engineCall('list containers', docker.listContainers({ all: true, filters }), { signal }),
    engineCall('list networks', docker.listNetworks({ filters }), { signal }),
  ]);
  return leftRuns(
    [
      ...containers.map((info): Labelled => ({ kind: 'container', name: (info.Names[0] ?? info.Id).replace(/^\//, ''), labels: info.Labels ?? {}, running: info.State === 'running' || info.State === 'paused' || info.State === 'restarting' })),
      ...networks.map((info): Labelled => ({ kind: 'network', name: info.Name, labels: info.Labels ?? {}, running: false })),
    ],
    ownRunId,
  );
}

/** One notice line per run that left things behind, with the command that removes them. */
export function leftRunNotice(run: LeftRun): string {
  const shown = run.names.slice(0, 4).join(', ');
  const more = run.names.length > 4 ? ` and ${run.names.length - 4} more` : '';
  return `the Docker engine still holds ${shown}${more} of run ${run.runId}, which is no longer running: hactl down --run ${run.runId} removes them`;
}
