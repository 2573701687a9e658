import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startLocalFaultProxy, type LocalFaultProxy } from '../faults/local-proxy.js';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { freePorts } from '../platform/ports.js';
import { waitUntilReady } from '../platform/processes.js';
import { stopEach } from '../platform/teardown.js';
import { pollUntil } from '../platform/time.js';
import { FailoverController, type ReplicationDriver } from './replication/failover.js';
import { describeTimings } from './replication/timings.js';
import { readerEndpoint, type ReaderEndpoint } from './replication/reader.js';
import { rejoiningControls } from './replication/rejoin.js';
import { infoFields, redisCommand } from './redis-wire.js';
import { serverProcessNode } from './server-process.js';
import type { FailoverTimings, LocalStoreContext, ReplicationOptions, RunningStore, StoreNode, StoreNodePlan } from './store.js';

export const READY_TIMEOUT_MS = 10_000;
/** A replica's first full copy of an empty primary takes milliseconds; a loaded machine gets slack. */
const SYNC_TIMEOUT_MS = 15_000;

/** ElastiCache's Multi-AZ failover, and one at test speed with the same steps. */
export const REDIS_FAILOVER_TIMINGS: Record<ReplicationOptions['profile'], FailoverTimings> = {
  fast: { profile: 'fast', checkIntervalMs: 200, unhealthyThreshold: 3, switchDelayMs: 0, source: 'test speed: a dead primary is noticed within about a second' },
  aws: {
    profile: 'aws',
    checkIntervalMs: 1_000,
    unhealthyThreshold: 3,
    switchDelayMs: 3_000,
    source: 'ElastiCache Multi-AZ: failover "typically just a few seconds" (AWS gives no figure): 3 checks 1 s apart, then 3 s until the primary endpoint\'s DNS name follows',
  },
};

/** A primary and its replicas, as every runtime plans them: node-1 starts as the primary. */
export function replicatedNodes(replication: ReplicationOptions): readonly StoreNodePlan[] {
  return Array.from({ length: 1 + replication.replicas }, (_, i) => ({ id: `node-${i + 1}`, role: i === 0 ? 'primary' : 'replica' }));
}

/** What the redis store module gives this topology: how to run one server, and its report line. */
export interface RedisServer {
  binary: string;
  version: string;
  /** redis-server's arguments to listen on 127.0.0.1:port with the variant's persistence. */
  args(port: number): string[];
  ping(host: string, port: number): Promise<boolean>;
}

/**
 * ElastiCache with Multi-AZ, on the local runtime: a primary and `replicas` replicas (redis-server
 * processes, asynchronous replication), each behind a replication link (a fault proxy: a delay put
 * there is the replicas' lag), and a primary endpoint that hactl owns (another fault proxy, which
 * apps connect to). hactl's failover controller stands in for the managed service: it notices a dead
 * primary, promotes the replica furthest along, re-points the endpoint and re-attaches the others.
 * A killed node comes back as a replica of the primary of the moment, after the failover if it was
 * the primary (the managed service replaces a failed node; it never returns as a second primary).
 */
export async function startReplicatedRedis(context: LocalStoreContext, server: RedisServer, replication: ReplicationOptions): Promise<RunningStore> {
  const timings = REDIS_FAILOVER_TIMINGS[replication.profile];
  const plans = replicatedNodes(replication);
  // Every port at once: ports taken one call at a time may repeat one not yet listened on.
  const all = await freePorts(plans.length * 3 + 4);
  const ports = all.slice(0, plans.length);
  const proxyPorts = (i: number): [number, number] => [all[plans.length + 2 * i]!, all[plans.length + 2 * i + 1]!];
  const nodes: StoreNode[] = plans.map((plan, i) => ({ id: plan.id, role: plan.role, address: { known: true, host: '127.0.0.1', port: ports[i]!, url: `redis://127.0.0.1:${ports[i]!}` } }));
  const portOf = (node: StoreNode) => ports[nodes.indexOf(node)]!;
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

  try {
    const primary = nodes[0]!;
    const launch = (node: StoreNode) => async () => {
      const dir = path.join(context.runDir, 'redis', node.id);
      await mkdir(dir, { recursive: true });
      const following = controller?.primary() ?? primary;
      const link = links.get(following);
      const replicaOf = replicaOfArgs(node === following ? undefined : { host: '127.0.0.1', port: link?.port ?? portOf(following) });
      const port = portOf(node);
      const process = await waitUntilReady(
        await context.supervisor.spawn(`redis-server ${node.id}`, server.binary, [...server.args(port), '--dir', dir, '--daemonize', 'no', ...replicaOf], { env: context.env }),
        () => server.ping('127.0.0.1', port),
        { what: `redis-server ${node.id} on 127.0.0.1:${port}`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 20, signal: context.signal },
      );
      running.add(node);
      return process;
    };

    // Link proxies first: a replica starts pointed at its primary's.
    for (const node of nodes) {
      const link = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(node) }, env: context.env, name: `replication link to ${node.id}`, signal: context.signal, ports: proxyPorts(nodes.indexOf(node)) });
      links.set(node, link);
      stops.push({ what: `the replication link to ${node.id}`, stop: link.stop });
    }
    const servers = new Map<StoreNode, Awaited<ReturnType<typeof serverProcessNode>>>();
    for (const node of nodes) {
      const started = await serverProcessNode(launch(node));
      servers.set(node, started);
      stops.push({ what: `redis-server ${node.id}`, stop: started.stop });
    }
    await Promise.all(nodes.filter((node) => node !== primary).map((node) => waitForSync(node, { host: '127.0.0.1', port: portOf(node) }, context.signal)));

    const endpoint = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(primary) }, env: context.env, name: 'primary endpoint', signal: context.signal, ports: proxyPorts(nodes.length) });
    stops.push({ what: 'the primary endpoint', stop: endpoint.stop });
    // ElastiCache's reader endpoint: reads of sessions there see what replication delivered.
    const readerProxy = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(nodes[1]!) }, env: context.env, name: 'reader endpoint', signal: context.signal, ports: proxyPorts(nodes.length + 1) });
    stops.push({ what: 'the reader endpoint', stop: readerProxy.stop });

    const reach: RedisNodeReach = { server: (node) => ({ host: '127.0.0.1', port: portOf(node) }), link: (node) => ({ host: '127.0.0.1', port: links.get(node)!.port }) };
    const driver = redisReplicationDriver(reach);
    const moveTo = async (node: StoreNode) => {
      await endpoint.control.setUpstream({ host: '127.0.0.1', port: portOf(node) });
      // The promoted node was the reader's replica, maybe: another one takes its place if any runs.
      // Not awaited: the endpoint's move is what the failover's timeline dates; a reader that cannot move says so (readerNode).
      void reader?.follow().catch(() => undefined);
    };
    const owned = controller = new FailoverController(nodes, driver, { moveTo }, timings, (node) => running.has(node));
    const readers = reader = readerEndpoint(readerProxy.control, nodes, { primary: () => owned.primary(), running: (node) => running.has(node), reach: reach.server, initial: nodes[1]! });
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
        // Its launch reads the primary of the moment: it starts with --replicaof that one.
        async rejoin() {
          await started.controls.start();
          await waitForSync(node, { host: '127.0.0.1', port: portOf(node) }, context.signal);
          // A reader that cannot move says so (readerNode); the node has rejoined all the same.
          await readers.follow().catch(() => undefined);
        },
        pause: started.controls.pause,
        unpause: started.controls.unpause,
      });
    }

    const described = `redis-server ${server.version}: a primary and ${replication.replicas} replica${replication.replicas === 1 ? '' : 's'} on 127.0.0.1 (${nodes.map((node) => `${node.id} :${portOf(node)}`).join(', ')}), ${replication.mode === 'async' ? 'asynchronous replication' : 'replication the app waits for (WAIT)'}, persistence off; primary endpoint 127.0.0.1:${endpoint.port}, reader endpoint 127.0.0.1:${readerProxy.port}, failover by hactl (${describeTimings(timings)})`;
    return {
      name: 'redis',
      description: described,
      nodes,
      endpoints: { app: { url: `redis://127.0.0.1:${endpoint.port}`, nodes: nodes.map((node) => node.id) }, reader: { url: `redis://127.0.0.1:${readerProxy.port}`, nodes: nodes.map((node) => node.id) } },
      countEntries: () => countKeys(reach.server(owned.primary())),
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
        ...(replication.mode === 'sync' ? { syncRequests: () => waitCalls({ host: '127.0.0.1', port: portOf(owned.primary()) }) } : {}),
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
 * Full copies go over the socket at once (no RDB file, no 5 s wait for more replicas to batch): a
 * node that rejoins is a replica again in milliseconds, as a test needs.
 */
export const REPLICATION_ARGS = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--repl-diskless-load', 'on-empty-db'];

/** A node's own arguments beside the variant's: diskless sync, and whom it replicates when it starts as a replica. */
export function replicaOfArgs(primary: { host: string; port: number } | undefined): string[] {
  return [...REPLICATION_ARGS, ...(primary ? ['--replicaof', primary.host, String(primary.port)] : [])];
}

/**
 * How hactl reaches a node's server, and where a replica of that node connects (its replication
 * link, named as the other nodes reach it): the two differ when nodes are containers.
 */
export interface RedisNodeReach {
  server(node: StoreNode): { host: string; port: number };
  link(node: StoreNode): { host: string; port: number };
}

/** The failover's Redis commands: INFO replication, REPLICAOF NO ONE, REPLICAOF <link of the new primary>. */
export function redisReplicationDriver(reach: RedisNodeReach): ReplicationDriver {
  return {
    status: (node) => nodeStatus(reach.server(node)),
    promote: async (node) => void (await redisCommand(reach.server(node).host, reach.server(node).port, ['REPLICAOF', 'NO', 'ONE'])),
    follow: async (node, to) => {
      const link = reach.link(to);
      await redisCommand(reach.server(node).host, reach.server(node).port, ['REPLICAOF', link.host, String(link.port)]);
    },
  };
}

async function nodeStatus(at: { host: string; port: number }): Promise<{ role: 'primary' | 'replica'; offset: number } | undefined> {
  try {
    const fields = infoFields(await redisCommand(at.host, at.port, ['INFO', 'replication'], 500));
    const role = fields.get('role') === 'master' ? 'primary' : 'replica';
    const offset = Number(fields.get(role === 'primary' ? 'master_repl_offset' : 'slave_repl_offset') ?? fields.get('master_repl_offset') ?? 0);
    return { role, offset };
  } catch {
    return undefined;
  }
}

/** Waits until the replica's link to its primary is up (its first copy made). */
export async function waitForSync(node: StoreNode, at: { host: string; port: number }, signal: AbortSignal | undefined): Promise<void> {
  let last = 'no answer';
  await pollUntil(
    async () => {
      const fields = await redisCommand(at.host, at.port, ['INFO', 'replication'], 1_000).then(infoFields, (error: unknown) => {
        last = errorMessage(error);
        return undefined;
      });
      if (!fields) return undefined;
      last = `role ${fields.get('role')}, master_link_status ${fields.get('master_link_status') ?? 'none'}`;
      return fields.get('role') === 'slave' && fields.get('master_link_status') === 'up' ? true : undefined;
    },
    { timeoutMs: SYNC_TIMEOUT_MS, intervalMs: 25, ...(signal ? { signal } : {}), onTimeout: () => new EnvironmentError(`redis-server ${node.id} did not finish copying its primary within ${SYNC_TIMEOUT_MS} ms (${last})`) },
  );
}

/** How far each running replica is behind the primary, in bytes of the replication stream. */
export async function lagOf(primary: StoreNode, nodes: readonly StoreNode[], reach: Pick<RedisNodeReach, 'server'>, running: ReadonlySet<StoreNode>) {
  const [head, ...replicas] = await Promise.all([primary, ...nodes.filter((node) => node !== primary && running.has(node))].map(async (node) => ({ node, status: await nodeStatus(reach.server(node)) })));
  return replicas.map(({ node, status }) => ({ node: node.id, bytes: head?.status && status ? Math.max(0, head.status.offset - status.offset) : null }));
}

/** How many WAIT commands the server at `at` has run since it started (INFO commandstats). */
export async function waitCalls(at: { host: string; port: number }): Promise<number> {
  const stats = await redisCommand(at.host, at.port, ['INFO', 'commandstats']);
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

/** Keys in every database of the server at `at` (the primary: hactl's own view). */
export function countKeys(at: { host: string; port: number }): Promise<number> {
  return redisCommand(at.host, at.port, ['INFO', 'keyspace']).then(keyCount);
}

function keyCount(info: string): number {
  return [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}
