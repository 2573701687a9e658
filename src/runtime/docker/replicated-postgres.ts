import { allSettledOrThrow, settled } from '../../platform/settled.js';
import path from 'node:path';
import { faultProxyControl, type FaultProxyControl } from '../../faults/control.js';
import { EnvironmentError } from '../../platform/errors.js';
import {
  autoConf,
  BACKUP_EMPTY_DIRS,
  backupCopies,
  baseBackup,
  ensureSlot,
  lagOf,
  literal,
  POSTGRES_FAILOVER_TIMINGS,
  postgresReplicationDriver,
  slotName,
  sql,
  waitForStreaming,
  type Address,
  type PostgresNodeReach,
} from '../../stores/postgres-replication.js';
import { FailoverController } from '../../stores/replication/failover.js';
import { rejoiningControls } from '../../stores/replication/rejoin.js';
import { describeTimings } from '../../stores/replication/timings.js';
import { nodeAddress, type ReplicationOptions, type RunningStore, type StoreModule, type StoreNode, type StoreOptions } from '../../stores/store.js';
import type { ContainerPlan } from '../../topology/containers.js';
import { REPLICATION_HBA, replicatedPostgresContainers } from '../../topology/postgres-containers.js';
import { waitForContainer, type ContainerHandle } from './containers.js';
import type { DockerStoreContext } from './replicated-redis.js';
import { filterTar, TAR_END, tarDirectory, tarFile } from './tar.js';

const READY_TIMEOUT_MS = 60_000;
/** Archives fetched at once from a container: a few, not the twenty-odd entries of a data directory, each an engine call listening on the run's signal. */
const COPY_BATCH = 4;

/** Who owns a data directory's files in the image (the archive says: 999 in the official image, 70 in its alpine one). */
interface Owner {
  uid: number;
  gid: number;
}

/**
 * postgres:standby and postgres:sync-standby on the docker runtime, as startReplicatedPostgres is
 * on the local one: a container per node, a replication link per node and the primary endpoint as
 * fault-proxy containers, and hactl's failover controller in hactl, reaching nodes and proxies
 * through their published ports. A standby is made as the local runtime makes it, from a base
 * backup with the low-level API (pg_backup_start/stop on the primary), and needs nothing of the
 * image but its server: the primary's data directory comes out of its container and goes into
 * the standby's, before that one first starts, through the engine's archive API (tar both ways),
 * with what a base backup leaves out left out and its backup_label, standby.signal and
 * primary_conninfo added. A killed primary is replaced by a new container of the same name and
 * ports made that way from the new primary (its WAL may run past the new primary's, and there is
 * no pg_rewind), as RDS replaces a failed instance; a killed standby starts again pointed at the
 * primary of the moment.
 */
export async function startReplicatedPostgresContainers(context: DockerStoreContext, store: StoreModule, image: string, options: StoreOptions & { replication: ReplicationOptions }): Promise<RunningStore> {
  const { engine, containers, signal } = context;
  const replication = options.replication;
  const sync = replication.mode === 'sync';
  const timings = POSTGRES_FAILOVER_TIMINGS[replication.mode][replication.profile];
  const planned = store.nodes(options);
  // Planned twice: host networking needs the ports before the plans can name them.
  const draft = replicatedPostgresContainers(store.docker, image, context.appImage, { network: 'bridge' }, options, planned);
  const { placement, publish } = await context.placement.place([...draft.nodes.flatMap((node) => [node.plan, node.link.plan]), draft.endpoint.plan]);
  const topology = replicatedPostgresContainers(store.docker, image, context.appImage, placement, options, planned);
  const started: ContainerHandle[] = [];
  let controller: FailoverController | undefined;

  const stopAll = async () => {
    await controller?.stop();
    await Promise.all(started.map((handle) => containers.remove(handle)));
  };

  const hostAddress = (handle: ContainerHandle, port: number): Address => ({ host: engine.publishHost, port: handle.hostPort(port) });
  const runProxy = async (plan: ContainerPlan): Promise<{ handle: ContainerHandle; control: FaultProxyControl }> => {
    const controlOf = (handle: ContainerHandle) => faultProxyControl(`http://${engine.publishHost}:${handle.hostPort(plan.ports[1]!)}`);
    const handle = await containers.withContainer(plan, publish.get(plan.service), (candidate) => {
      started.push(candidate);
      return waitForContainer(candidate, () => controlOf(candidate).ready(), { what: `fault proxy container ${candidate.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
    });
    return { handle, control: controlOf(handle) };
  };
  const runNode = (plan: ContainerPlan, beforeStart?: (handle: ContainerHandle) => Promise<void>) =>
    containers.withContainer(
      plan,
      publish.get(plan.service),
      (candidate) => {
        started.push(candidate);
        return waitForContainer(candidate, () => store.docker.probe(engine.publishHost, candidate.hostPort(plan.ports[0]!)), { what: `${store.name} container ${candidate.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
      },
      beforeStart,
    );

  try {
    const nodes: StoreNode[] = topology.nodes.map((node) => ({ id: node.id, role: node.role, address: nodeAddress(store.docker.url(node.reachAt.host, node.reachAt.port)) }));
    const planOf = new Map(nodes.map((node, i) => [node, topology.nodes[i]!]));
    const handles = new Map<StoreNode, ContainerHandle>();
    const running = new Set<StoreNode>();
    const reach: PostgresNodeReach = {
      server: (node) => hostAddress(handles.get(node)!, planOf.get(node)!.plan.ports[0]!),
      link: (node) => planOf.get(node)!.link.reachAt,
    };
    const primary = nodes.find((node) => node.role === 'primary')!;
    // The links beside the primary (no standby needs them yet), the endpoint beside the standbys.
    const [linksStarted, primaryStarted] = await settled(
      allSettledOrThrow(nodes.map(async (node) => [node, await runProxy(planOf.get(node)!.link.plan)] as const)),
      runNode(planOf.get(primary)!.plan),
    );
    const links = new Map(linksStarted);
    handles.set(primary, primaryStarted);
    let owner: Owner | undefined;
    // Where every node keeps its data (one image, one PGDATA), as the primary's server says it.
    let dataDir = '';

    /**
     * The data directory of `source`, as a base backup copies it: an archive of each entry the
     * backup keeps (pg_wal, which a standby streams from its slot, and the other runtime
     * directories only as empty ones), fetched a few at a time, filtered, and put together.
     */
    const copyOut = async (source: StoreNode) => {
      const names = (await sql<{ name: string }>(reach.server(source), "SELECT pg_ls_dir(current_setting('data_directory')) AS name")).map((row) => row.name);
      const parts = await inBatches(names.filter((name) => backupCopies(name) && !BACKUP_EMPTY_DIRS.has(name)), COPY_BATCH, async (name) => {
        // Gone since the listing: runtime state, as for a copy of files.
        const archive = await handles.get(source)!.getArchive(path.posix.join(dataDir, name));
        return archive ? filterTar(archive, (entry) => backupCopies(entry.name)) : undefined;
      });
      const found = parts.find((part) => part && part.entries.length > 0)?.entries[0];
      if (!found || !names.includes('PG_VERSION')) throw new EnvironmentError(`the data directory ${dataDir} of ${handles.get(source)!.name} came out empty`);
      owner = { uid: found.uid, gid: found.gid };
      const empty = names.filter((name) => BACKUP_EMPTY_DIRS.has(name)).map((name) => tarDirectory(name, { ...owner!, mode: 0o700 }));
      return Buffer.concat([...parts.map((part) => part?.kept ?? Buffer.alloc(0)), ...empty]);
    };

    /** Files put into a node's data directory, owned as the rest of it; the archive's end. */
    const filesInto = (files: Array<[string, string]>) => Buffer.concat([...files.map(([name, text]) => tarFile(name, text, { ...owner!, mode: 0o600 })), TAR_END]);

    /** A new container for `node`, its data directory a base backup of `source` (the primary of the moment) made a standby of it. */
    const buildStandby = async (node: StoreNode, source: StoreNode) => {
      let copied: Buffer | undefined;
      const label = await baseBackup(reach.server(source), slotName(node.id), async () => {
        copied = await copyOut(source);
      });
      const files: Array<[string, string]> = [
        ['backup_label', label.labelfile],
        ...(label.spcmapfile ? [['tablespace_map', label.spcmapfile] as [string, string]] : []),
        ['standby.signal', ''],
        ['postgresql.auto.conf', autoConf({ sync, follow: { link: reach.link(source), slot: slotName(node.id), applicationName: node.id } })],
      ];
      const tar = Buffer.concat([copied!, filesInto(files)]);
      const handle = await runNode(planOf.get(node)!.plan, (created) => created.putArchive(dataDir, tar));
      handles.set(node, handle);
      running.add(node);
      await waitForStreaming(node, reach.server(node), signal);
    };

    running.add(primary);
    dataDir = (await sql<{ data_directory: string }>(reach.server(primary), 'SHOW data_directory'))[0]?.data_directory ?? '';
    if (!dataDir.startsWith('/')) throw new EnvironmentError(`the postgres primary in ${handles.get(primary)!.name} did not say where its data directory is`);
    await allowReplication(reach.server(primary));
    // At once: each backup has a session and a slot of its own.
    const [endpoint] = await settled(runProxy(topology.endpoint.plan), ...nodes.filter((candidate) => candidate !== primary).map((node) => buildStandby(node, primary)));

    // The endpoint dials a node by its address, not its name (see startReplicatedRedisContainers).
    const upstreamOf = async (node: StoreNode) => {
      const address = await handles.get(node)!.networkAddress();
      return address ? { host: address, port: planOf.get(node)!.reachAt.port } : planOf.get(node)!.reachAt;
    };
    await endpoint.control.setUpstream(await upstreamOf(primary));
    const owned = (controller = new FailoverController(
      nodes,
      postgresReplicationDriver(reach, sync),
      { moveTo: async (node) => endpoint.control.setUpstream(await upstreamOf(node)) },
      timings,
      (node) => running.has(node),
    ));
    owned.start();

    for (const node of nodes) {
      node.controls = rejoiningControls(node, owned, {
        timings,
        signal,
        async kill(sig) {
          running.delete(node);
          await handles.get(node)!.kill(sig);
        },
        async rejoin(current, wasPrimary) {
          const old = handles.get(node)!;
          if (wasPrimary) {
            // Its WAL may run past what the new primary has, and there is no pg_rewind: a new container from a fresh base backup.
            await containers.remove(old);
            started.splice(started.indexOf(old), 1);
            await buildStandby(node, current);
            return;
          }
          // A standby killed during a failover still names the old primary: point it at the current one, then start it.
          await ensureSlot(reach.server(current), slotName(node.id));
          await old.putArchive(dataDir, filesInto([['postgresql.auto.conf', autoConf({ sync, follow: { link: reach.link(current), slot: slotName(node.id), applicationName: node.id } })]]));
          await old.start();
          await waitForContainer(old, () => store.docker.probe(engine.publishHost, old.hostPort(planOf.get(node)!.plan.ports[0]!)), { what: `${store.name} container ${old.name}`, timeoutMs: READY_TIMEOUT_MS, signal });
          running.add(node);
          await waitForStreaming(node, reach.server(node), signal);
        },
        pause: () => handles.get(node)!.pause(),
        unpause: () => handles.get(node)!.unpause(),
      });
    }

    const endpointAt = hostAddress(endpoint.handle, topology.endpoint.plan.ports[0]!);
    const described = `${image}: a primary and ${replication.replicas} standby${replication.replicas === 1 ? '' : 's'} in containers (${context.network} network; ${nodes.map((node) => `${node.id} ${handles.get(node)!.name} ${reach.server(node).host}:${reach.server(node).port}`).join(', ')}), ${sync ? 'synchronous streaming replication (synchronous_standby_names *, synchronous_commit on)' : 'asynchronous streaming replication'}, standbys from base backups copied between containers, ${store.docker.settings(options)}; primary endpoint container ${endpoint.handle.name} (${endpointAt.host}:${endpointAt.port}), failover by hactl (${describeTimings(timings)})`;
    return {
      name: store.name,
      description: described,
      nodes,
      endpoints: { app: { url: topology.url, nodes: nodes.map((node) => node.id) } },
      countEntries: () => {
        const at = reach.server(owned.primary());
        return store.countEntries(store.docker.url(at.host, at.port));
      },
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'hactl',
        primary: () => owned.primary().id,
        lag: () => lagOf(owned.primary(), nodes, reach, running),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, waitSignal) => owned.waitFor(kind, since, timeoutMs, waitSignal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
        async setLinkDelay(ms) {
          await Promise.all([...links.values()].map((link) => link.control.setToxic(ms > 0 ? { type: 'latency', latencyMs: ms, dropOnClose: true } : undefined)));
        },
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/**
 * Lets standbys in: the image's pg_hba.conf admits replication from loopback only, and a standby
 * connects through its link container. Written through the server (COPY ... TO its hba_file), so
 * that it works whatever the image and its users; standbys get it with the data directory.
 */
async function allowReplication(at: Address): Promise<void> {
  const [row] = await sql<{ hba_file: string }>(at, 'SHOW hba_file');
  if (!row?.hba_file) throw new EnvironmentError('the postgres primary did not say where its pg_hba.conf is');
  await sql(at, `COPY (SELECT line FROM unnest(ARRAY[${REPLICATION_HBA.map(literal).join(', ')}]) WITH ORDINALITY AS hba(line, n) ORDER BY n) TO ${literal(row.hba_file)}`);
  await sql(at, 'SELECT pg_reload_conf()');
}

/** `work` on every item, `size` at a time, results in order. */
async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

