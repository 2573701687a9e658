import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { FailoverLog } from './replication/failover-log.js';
import path from 'node:path';
import { formatSentinelUrl } from '../app/stores/sentinel-url.js';
import type { FaultProxyControl } from '../faults/control.js';
import { startLocalFaultProxy, type LocalFaultProxy } from '../faults/local-proxy.js';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { freePorts } from '../platform/ports.js';
import { waitUntilReady } from '../platform/processes.js';
import { stopEach } from '../platform/teardown.js';
import { pollUntil, sleep } from '../platform/time.js';
import { countKeys, lagOf, READY_TIMEOUT_MS, REPLICATION_ARGS, replicatedNodes, waitForSync, type RedisServer } from './redis-replication.js';
import { combineViews, fieldsOf, respCommand, sentinelView, type SentinelView } from './redis-sentinel-wire.js';
import { infoFields, redisCommand } from './redis-wire.js';
import { describeTimings, failoverBoundMs } from './replication/timings.js';
import { serverProcessNode } from './server-process.js';
import type { FailoverEvent, FailoverTimings, LocalStoreContext, ReplicationOptions, RunningStore, StoreNode, StoreNodeControls, StoreNodePlan } from './store.js';

/** The name the Sentinels monitor the primary under: `{redisMasterName}`. */
export const SENTINEL_MASTER_NAME = 'hactl';
export const SENTINELS = 3;
/** Two of three Sentinels must agree the primary is down; a majority (two) must elect the leader that fails over. */
export const QUORUM = 2;
/** How often hactl asks the Sentinels and the data nodes how things stand. */
const POLL_MS = 100;
/** Sentinels find their replicas at once but each other by hello messages every 2 s. */
const SENTINELS_READY_TIMEOUT_MS = 20_000;
/** Beyond the detection: the odown vote, the leader's election (started up to 1 s apart on purpose), the promotion. */
const ELECTION_SLACK_MS = 5_000;

export interface SentinelProfile {
  downAfterMs: number;
  failoverTimeoutMs: number;
  /**
   * Sentinel's internal periods (SENTINEL DEBUG, not kept in its config file), undefined: its own.
   * info-period (10 s by default): a leader skips every replica whose INFO is older than 5 s when
   * the primary is down, so with a detection within seconds the first attempt found "no good
   * slave" half the time and the retry waited twice failover-timeout. ping-period (1 s) is also
   * how soon a Sentinel reconnects a killed link: a promotion kills the other Sentinels'
   * connections to the promoted node (CLIENT KILL TYPE normal), and their unanswered ping then
   * counts towards down-after-milliseconds; at 1 s each, a second failover of the new primary
   * followed the first in one run of two.
   */
  debug?: { infoPeriodMs: number; pingPeriodMs: number };
  timings: FailoverTimings;
}

/**
 * Sentinel's own settings per failover profile. `failover-timeout` bounds a promotion and spaces
 * retries (twice it); at 1 s a loaded machine's promotion, confirmed by INFO, would be abandoned.
 * `fast` detects in 2 s rather than 1: see `debug` for why 1 s makes Sentinel fail over the
 * primary it just promoted.
 */
export const SENTINEL_PROFILES: Record<ReplicationOptions['profile'], SentinelProfile> = {
  fast: {
    downAfterMs: 2_000,
    failoverTimeoutMs: 5_000,
    debug: { infoPeriodMs: 1_000, pingPeriodMs: 500 },
    timings: {
      profile: 'fast',
      checkIntervalMs: 500,
      unhealthyThreshold: 4,
      switchDelayMs: 0,
      source: 'test speed: Sentinel down-after-milliseconds 2000 (pings 500 ms apart), failover-timeout 5000, replicas\' INFO every 1000 ms (SENTINEL DEBUG ping-period, info-period), quorum 2 of 3',
    },
  },
  aws: {
    downAfterMs: 30_000,
    failoverTimeoutMs: 180_000,
    timings: {
      profile: 'aws',
      checkIntervalMs: 1_000,
      unhealthyThreshold: 30,
      switchDelayMs: 0,
      source: "Redis Sentinel's defaults (self-managed, no AWS figure applies): down-after-milliseconds 30000 (pings 1 s apart), failover-timeout 180000, quorum 2 of 3",
    },
  },
};

/** The data nodes of redis:replica, then three Sentinels. */
export function sentinelNodes(replication: ReplicationOptions): readonly StoreNodePlan[] {
  return [...replicatedNodes(replication), ...Array.from({ length: SENTINELS }, (_, i) => ({ id: `sentinel-${i + 1}`, role: 'sentinel' as const }))];
}

/**
 * A Sentinel's configuration file: Sentinel rewrites it as it learns, so each has its own. A
 * primary named by a host name (a container's service name) needs Sentinel to resolve names, and
 * to give them out as names: an address that a replaced container's new IP would make stale, or
 * that a client on another network could not use, is what the name avoids.
 */
export function sentinelConfig(listen: { host: string; port: number }, dir: string, primary: { host: string; port: number }, profile: SentinelProfile): string {
  const byName = net.isIP(primary.host) === 0;
  return [
    `port ${listen.port}`,
    `bind ${listen.host}`,
    'protected-mode no',
    'daemonize no',
    `dir ${JSON.stringify(dir)}`,
    // Before `monitor`, which resolves its host when read.
    ...(byName ? ['sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes'] : []),
    `sentinel monitor ${SENTINEL_MASTER_NAME} ${primary.host} ${primary.port} ${QUORUM}`,
    `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${profile.downAfterMs}`,
    `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${profile.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
    '',
  ].join('\n');
}

/**
 * Self-managed Redis with Sentinel, on the local runtime: the data nodes of redis:replica (a
 * primary and replicas, each behind its replication link) and three `redis-server --sentinel`
 * processes. Sentinel, not hactl, decides the failover: hactl only watches, asking the Sentinels
 * and the nodes every 100 ms, and reports what Sentinel did as FailoverEvents.
 *
 * Every node announces its replication link as its address (replica-announce-port) and the
 * Sentinels monitor the primary at its link, so the Sentinels know each node by its link, and a
 * replica Sentinel re-points after a failover still replicates through one: a delay on the links
 * holds on every primary. Clients must not go through the links, so the app's URL maps each link
 * to its node (node-redis's nodeAddressMap).
 *
 * A killed node is started again with --replicaof the primary the Sentinels name (after their
 * failover if it was the primary): Sentinel would turn a node that came back as a primary into a
 * replica only some 8 s later, and meanwhile two nodes would say they are primary.
 */
export async function startSentinelRedis(context: LocalStoreContext, server: RedisServer, replication: ReplicationOptions): Promise<RunningStore> {
  const profile = SENTINEL_PROFILES[replication.profile];
  const timings = profile.timings;
  const plans = sentinelNodes(replication);
  const dataCount = plans.filter((plan) => plan.role !== 'sentinel').length;
  // Every port at once: ports taken one call at a time may repeat one not yet listened on.
  const all = await freePorts(dataCount * 3 + SENTINELS);
  const portOfPlan = (i: number) => (i < dataCount ? all[i]! : all[dataCount * 3 + (i - dataCount)]!);
  const proxyPorts = (i: number): [number, number] => [all[dataCount + 2 * i]!, all[dataCount + 2 * i + 1]!];
  const nodes: StoreNode[] = plans.map((plan, i) => ({ id: plan.id, role: plan.role, address: { known: true, host: '127.0.0.1', port: portOfPlan(i), url: `redis://127.0.0.1:${portOfPlan(i)}` } }));
  const dataNodes = nodes.slice(0, dataCount);
  const sentinels = nodes.slice(dataCount);
  const portOf = (node: StoreNode) => portOfPlan(nodes.indexOf(node));
  const running = new Set<StoreNode>();
  const links = new Map<StoreNode, LocalFaultProxy>();
  const stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  const configured = new Set<StoreNode>();
  let watcher: SentinelWatcher | undefined;

  const stopAll = async () => {
    await watcher?.stop();
    // Sentinels first (pushed last): one left running while the nodes stop would fail them over.
    const failures = await stopEach([...stops].reverse());
    if (failures.length > 0) throw new EnvironmentError(failures.join('; '));
  };

  try {
    const primary = dataNodes[0]!;
    const linkPort = (node: StoreNode) => links.get(node)!.port;
    const launchData = (node: StoreNode) => async () => {
      const dir = path.join(context.runDir, 'redis', node.id);
      await mkdir(dir, { recursive: true });
      const following = watcher?.primaryNode() ?? primary;
      const replicaOf = node === following ? [] : ['--replicaof', '127.0.0.1', String(linkPort(following))];
      const port = portOf(node);
      const announce = ['--replica-announce-ip', '127.0.0.1', '--replica-announce-port', String(linkPort(node))];
      const process = await waitUntilReady(
        await context.supervisor.spawn(`redis-server ${node.id}`, server.binary, [...server.args(port), '--dir', dir, '--daemonize', 'no', ...REPLICATION_ARGS, ...announce, ...replicaOf], { env: context.env }),
        () => server.ping('127.0.0.1', port),
        { what: `redis-server ${node.id} on 127.0.0.1:${port}`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 20, signal: context.signal },
      );
      running.add(node);
      return process;
    };
    const launchSentinel = (node: StoreNode) => async () => {
      const dir = path.join(context.runDir, 'redis', node.id);
      const file = path.join(dir, 'sentinel.conf');
      await mkdir(dir, { recursive: true });
      // Written once: a restarted Sentinel reads back what it rewrote there (the current primary, its peers).
      if (!configured.has(node)) {
        configured.add(node);
        await writeFile(file, sentinelConfig({ host: '127.0.0.1', port: portOf(node) }, dir, { host: '127.0.0.1', port: linkPort(primary) }, profile));
      }
      const port = portOf(node);
      const process = await waitUntilReady(
        await context.supervisor.spawn(`redis-server --sentinel ${node.id}`, server.binary, [file, '--sentinel'], { env: context.env }),
        () => server.ping('127.0.0.1', port),
        { what: `redis Sentinel ${node.id} on 127.0.0.1:${port}`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 20, signal: context.signal },
      );
      await setSentinelPeriods(node, { host: '127.0.0.1', port }, profile).catch(async (error: unknown) => {
        await process.stop();
        throw error;
      });
      running.add(node);
      return process;
    };

    for (const node of dataNodes) {
      const link = await startLocalFaultProxy(context.supervisor, { upstream: { host: '127.0.0.1', port: portOf(node) }, env: context.env, name: `replication link to ${node.id}`, signal: context.signal, ports: proxyPorts(dataNodes.indexOf(node)) });
      links.set(node, link);
      stops.push({ what: `the replication link to ${node.id}`, stop: link.stop });
    }
    const servers = new Map<StoreNode, Awaited<ReturnType<typeof serverProcessNode>>>();
    for (const node of dataNodes) {
      const started = await serverProcessNode(launchData(node));
      servers.set(node, started);
      stops.push({ what: `redis-server ${node.id}`, stop: started.stop });
    }
    await Promise.all(dataNodes.filter((node) => node !== primary).map((node) => waitForSync(node, { host: '127.0.0.1', port: portOf(node) }, context.signal)));
    for (const node of sentinels) {
      const started = await serverProcessNode(launchSentinel(node));
      stops.push({ what: `redis-server --sentinel ${node.id}`, stop: started.stop });
      const { kill } = started.controls;
      node.controls = {
        ...started.controls,
        async kill(signal) {
          running.delete(node);
          await kill(signal);
        },
      };
    }
    await sentinelsReady(sentinels, (node) => ({ host: '127.0.0.1', port: portOf(node) }), dataCount - 1, context.signal);

    const serverAt = (node: StoreNode) => ({ host: '127.0.0.1', port: portOf(node) });
    const owned = (watcher = new SentinelWatcher(primary, dataNodes, sentinels, {
      sentinel: serverAt,
      server: serverAt,
      announced: (node) => ({ host: '127.0.0.1', port: linkPort(node) }),
      running: (node) => running.has(node),
    }));
    owned.start();

    for (const node of dataNodes) {
      const started = servers.get(node)!;
      node.controls = sentinelDataControls(node, owned, {
        timings,
        signal: context.signal,
        async kill(signal) {
          running.delete(node);
          await started.controls.kill(signal);
        },
        // Its launch reads the primary the Sentinels name: it starts with --replicaof that one's link.
        async rejoin() {
          await started.controls.start();
          await waitForSync(node, serverAt(node), context.signal);
        },
        pause: started.controls.pause,
        unpause: started.controls.unpause,
      });
    }

    const url = formatSentinelUrl({
      sentinels: sentinels.map((node) => ({ host: '127.0.0.1', port: portOf(node) })),
      masterName: SENTINEL_MASTER_NAME,
      map: Object.fromEntries(dataNodes.map((node) => [`127.0.0.1:${linkPort(node)}`, { host: '127.0.0.1', port: portOf(node) }])),
    });
    const described = `redis-server ${server.version}: a primary and ${replication.replicas} replica${replication.replicas === 1 ? '' : 's'} on 127.0.0.1 (${dataNodes.map((node) => `${node.id} :${portOf(node)}`).join(', ')}), asynchronous replication, persistence off; ${SENTINELS} Sentinels (${sentinels.map((node) => `:${portOf(node)}`).join(', ')}) monitoring it as "${SENTINEL_MASTER_NAME}", quorum ${QUORUM}; failover by Sentinel (${describeTimings(timings)}; down-after-milliseconds ${profile.downAfterMs}, failover-timeout ${profile.failoverTimeoutMs}${profile.debug ? `, info-period ${profile.debug.infoPeriodMs}, ping-period ${profile.debug.pingPeriodMs}` : ''}), apps find the primary through Sentinel`;
    return {
      name: 'redis',
      description: described,
      nodes,
      endpoints: { app: { url, nodes: nodes.map((node) => node.id) } },
      countEntries: () => countKeys({ host: '127.0.0.1', port: portOf(owned.primaryNode()) }),
      replication: {
        mode: replication.mode,
        timings,
        decidedBy: 'sentinel',
        primary: () => owned.primaryNode().id,
        lag: () => lagOf(owned.primaryNode(), dataNodes, { server: (node) => ({ host: '127.0.0.1', port: portOf(node) }) }, running),
        events: () => owned.events(),
        waitFor: (kind, since, timeoutMs, signal) => owned.waitFor(kind, since, timeoutMs, signal),
        mostPrimariesAtOnce: () => owned.mostPrimariesAtOnce(),
        async setLinkDelay(ms) {
          // A replica that left its link (re-pointed at a node's own port) would not be delayed: no figure rests on that.
          if (ms > 0) {
            await owned.checkLinksInUse();
            await onlyReplicationOnLink(owned.primaryNode(), { host: '127.0.0.1', port: portOf(owned.primaryNode()) }, links.get(owned.primaryNode())?.control);
          }
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
 * Sentinel's internal periods (see SentinelProfile.debug), which its config file does not keep:
 * set on every start, through the address hactl reaches the Sentinel at.
 */
export async function setSentinelPeriods(node: StoreNode, at: Address, profile: SentinelProfile): Promise<void> {
  if (!profile.debug) return;
  await redisCommand(at.host, at.port, ['SENTINEL', 'DEBUG', 'info-period', String(profile.debug.infoPeriodMs), 'ping-period', String(profile.debug.pingPeriodMs)]).catch((error: unknown) => {
    throw new EnvironmentError(`redis Sentinel ${node.id} refused its periods: ${errorMessage(error)}`);
  });
}

/** Waits until every Sentinel knows the primary, its replicas and the two other Sentinels: before that, no quorum could fail it over. */
export async function sentinelsReady(sentinels: readonly StoreNode[], at: (node: StoreNode) => Address, replicas: number, signal: AbortSignal | undefined): Promise<void> {
  let last = 'no answer';
  await pollUntil(
    async () => {
      const views = await Promise.all(sentinels.map((node) => askSentinel(at(node))));
      last = views.map((view, i) => `${sentinels[i]!.id}: ${view ? `${view.replicas} replicas, ${view.otherSentinels} other Sentinels` : 'no answer'}`).join('; ');
      return views.every((view) => view && view.replicas >= replicas && view.otherSentinels >= sentinels.length - 1) ? true : undefined;
    },
    { timeoutMs: SENTINELS_READY_TIMEOUT_MS, intervalMs: 100, ...(signal ? { signal } : {}), onTimeout: () => new EnvironmentError(`the Sentinels did not find the replicas and each other within ${SENTINELS_READY_TIMEOUT_MS} ms (${last})`) },
  );
}

async function askSentinel(at: Address): Promise<SentinelView | undefined> {
  try {
    return sentinelView(fieldsOf(await respCommand(at.host, at.port, ['SENTINEL', 'MASTER', SENTINEL_MASTER_NAME], 500)));
  } catch {
    return undefined;
  }
}

type Address = { host: string; port: number };

/** How hactl reaches the Sentinels and the data nodes, and the address the Sentinels know each data node by. */
export interface SentinelReach {
  sentinel(node: StoreNode): Address;
  server(node: StoreNode): Address;
  /** The node's replication link, as the node announces it and the Sentinels give it out. */
  announced(node: StoreNode): Address;
  running(node: StoreNode): boolean;
}

const addressOf = (at: Address) => `${at.host}:${at.port}`;

/**
 * What the Sentinels did, told as the failover steps hactl's own controller reports: a poll every
 * 100 ms of the first Sentinel that answers (the primary it names, its o_down flag) and of every
 * running data node's role (who replicates from whom; two primaries at once). The same watcher
 * for processes and containers: only the addresses differ.
 */
export class SentinelWatcher {
  private readonly steps = new FailoverLog();
  private current: StoreNode;
  private downSeen = false;
  private attached = new Set<StoreNode>();
  private primariesAtOnce = 1;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastAnswer = 'not asked yet';
  /** Nodes hactl is starting again: their return is recorded by their start, not here. */
  readonly restarting = new Set<StoreNode>();
  /** A data node by the address a Sentinel may name it by: its link, or its own. */
  private readonly byAddress: ReadonlyMap<string, StoreNode>;

  constructor(
    primary: StoreNode,
    private readonly dataNodes: readonly StoreNode[],
    private readonly sentinels: readonly StoreNode[],
    private readonly at: SentinelReach,
  ) {
    this.current = primary;
    this.byAddress = new Map(dataNodes.flatMap((node) => [[addressOf(at.announced(node)), node] as const, [addressOf(at.server(node)), node] as const]));
  }

  primaryNode(): StoreNode {
    return this.current;
  }

  events(): readonly FailoverEvent[] {
    return this.steps.events();
  }

  mostPrimariesAtOnce(): number {
    return this.primariesAtOnce;
  }

  lastSentinelAnswer(): string {
    return this.lastAnswer;
  }

  record(kind: FailoverEvent['kind'], node: StoreNode, detail?: string): void {
    if (kind === 'replica-attached' || kind === 'rejoined-as-replica') this.attached.add(node);
    this.steps.record(kind, node, detail);
  }

  waitFor(kind: FailoverEvent['kind'], sinceEpoch: number, timeoutMs: number, signal?: AbortSignal): Promise<FailoverEvent | undefined> {
    return this.steps.waitFor(kind, sinceEpoch, timeoutMs, signal);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Throws unless every running replica replicates from the primary's link. */
  async checkLinksInUse(): Promise<void> {
    const primaryLink = addressOf(this.at.announced(this.current));
    for (const node of this.dataNodes) {
      if (node === this.current || !this.at.running(node)) continue;
      const server = this.at.server(node);
      const fields = infoFields(await redisCommand(server.host, server.port, ['INFO', 'replication'], 1_000));
      const master = `${fields.get('master_host')}:${fields.get('master_port')}`;
      if (fields.get('role') !== 'slave' || master !== primaryLink) {
        throw new EnvironmentError(`${node.id} does not replicate through ${this.current.id}'s replication link (role ${fields.get('role')}, master ${fields.has('master_host') ? master : 'none'}, link ${primaryLink}): a delay there would not reach it`);
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await sleep(POLL_MS);
      if (this.stopped) break;
      await this.tick().catch(() => undefined);
    }
  }

  private async tick(): Promise<void> {
    const [view, infos] = await Promise.all([this.askSentinels(), Promise.all(this.dataNodes.map(async (node) => ({ node, fields: this.at.running(node) ? await this.info(node) : undefined })))]);
    if (this.stopped) return;
    const primaries = infos.filter(({ node, fields }) => fields?.get('role') === 'master' && this.at.running(node)).length;
    this.primariesAtOnce = Math.max(this.primariesAtOnce, primaries);
    if (!view) return;
    const named = this.byAddress.get(view.address);
    if (view.primaryDown && !this.downSeen) {
      this.downSeen = true;
      this.record('primary-down', this.current, 'a quorum of Sentinels holds it objectively down (+odown)');
    }
    if (named && named !== this.current) {
      const dead = this.current;
      // The o_down flag lasts from the vote to the switch; a switch faster than a poll still had one.
      if (!this.downSeen) this.record('primary-down', dead, 'a quorum of Sentinels held it down (+odown came and went between two polls)');
      dead.role = 'replica';
      named.role = 'primary';
      this.current = named;
      this.downSeen = false;
      this.attached = new Set();
      this.record('promoted', named, `replaces ${dead.id}`);
      this.record('endpoint-moved', named, 'the Sentinels name it as primary (+switch-master); clients asking them follow');
    }
    if (!this.steps.events().some((event) => event.kind === 'promoted')) return;
    const link = addressOf(this.at.announced(this.current));
    for (const { node, fields } of infos) {
      if (!fields || node === this.current || this.attached.has(node) || this.restarting.has(node)) continue;
      if (fields.get('role') === 'slave' && `${fields.get('master_host')}:${fields.get('master_port')}` === link && fields.get('master_link_status') === 'up') {
        this.attached.add(node);
        this.record('replica-attached', node, `to ${this.current.id}`);
      }
    }
  }

  private async askSentinels(): Promise<{ address: string; primaryDown: boolean } | undefined> {
    const asked = this.sentinels.filter((node) => this.at.running(node));
    const views = await Promise.all(asked.map((node) => askSentinel(this.at.sentinel(node))));
    const current = addressOf(this.at.announced(this.current));
    const combined = combineViews(views, current);
    this.lastAnswer = asked.map((node, i) => `${node.id}: ${views[i] ? `${views[i]!.address}${views[i]!.objectivelyDown ? ' o_down' : ''}, epoch ${views[i]!.configEpoch}` : 'no answer'}`).join('; ') || 'no Sentinel running';
    return combined;
  }

  private async info(node: StoreNode): Promise<Map<string, string> | undefined> {
    try {
      const server = this.at.server(node);
      return infoFields(await redisCommand(server.host, server.port, ['INFO', 'replication'], 500));
    } catch {
      return undefined;
    }
  }
}

/** How often, and how far apart, the primary's link is counted before an excess counts: a Sentinel may be reconnecting. */
const LINK_COUNTS = 3;
const LINK_COUNT_GAP_MS = 200;

/**
 * The primary's replication link must carry only replication (its replicas) and the Sentinels
 * (which monitor the primary there): an app whose client does not map the Sentinels' addresses
 * to the nodes' own ports talks to the primary through the link, so under a delay each of its
 * writes waits for the delay and its acknowledgement travels with the replication stream, and
 * the loss would read near 0 for that reason alone. Counted against the primary's own client
 * list, a few times: an excess that persists is refused, not measured.
 */
export async function onlyReplicationOnLink(primary: StoreNode, server: Address, link: Pick<FaultProxyControl, 'stats'> | undefined): Promise<void> {
  if (!link) return;
  let excess = 0;
  let detail = '';
  for (let count = 0; count < LINK_COUNTS; count++) {
    if (count > 0) await sleep(LINK_COUNT_GAP_MS);
    const clients = (await redisCommand(server.host, server.port, ['CLIENT', 'LIST'], 1_000)).split('\n').filter((line) => line.trim() !== '');
    const replicas = clients.filter((line) => /\bflags=\S*S/.test(line)).length;
    const sentinels = clients.filter((line) => /\bname=sentinel-/.test(line)).length;
    const { connections } = await link.stats();
    excess = connections - replicas - sentinels;
    detail = `${connections} connections through it; ${replicas} replicas and ${sentinels} Sentinel connections at ${primary.id}`;
    if (excess <= 0) return;
  }
  throw new EnvironmentError(
    `${excess} connections reach ${primary.id} through its replication link besides its replicas' and the Sentinels' (${detail}): the app's own client talks to the primary at the address the Sentinels give, so a delay there would hold its writes too and its loss would read near 0; map the Sentinels' addresses to the nodes' own ports (as the demo app's client does, with the map= of {redisUrl}), or run replica-lag on redis:replica`,
  );
}

/**
 * A data node's kill and start under Sentinel, on any runtime: a killed primary comes back only
 * once the Sentinels promoted another, and always as a replica of the primary they name (`rejoin`
 * makes it one: a restart or a new container with --replicaof that one's link); its return is
 * recorded by hactl, not by the watcher, which would see it attach before it caught up.
 */
export function sentinelDataControls(
  node: StoreNode,
  watcher: SentinelWatcher,
  options: {
    timings: FailoverTimings;
    signal?: AbortSignal | undefined;
    /** Marks the node not running (the watcher asks only running nodes), then kills it. */
    kill(signal: NodeJS.Signals): Promise<void>;
    rejoin(primary: StoreNode): Promise<void>;
    pause(): Promise<void>;
    unpause(): Promise<void>;
  },
): StoreNodeControls {
  const rejoinBoundMs = failoverBoundMs(options.timings) + ELECTION_SLACK_MS;
  let killed: { at: number; wasPrimary: boolean } | undefined;
  return {
    async kill(signal) {
      killed = { at: Date.now(), wasPrimary: watcher.primaryNode() === node };
      await options.kill(signal);
    },
    async start() {
      // Back only as a replica of the primary the Sentinels chose: first they must have chosen one.
      if (watcher.primaryNode() === node) {
        const promoted = await watcher.waitFor('promoted', killed?.at ?? Date.now(), rejoinBoundMs, options.signal);
        if (!promoted) throw new EnvironmentError(`the Sentinels promoted no replica of ${node.id} within ${rejoinBoundMs} ms (${watcher.lastSentinelAnswer()}), so it cannot rejoin as one`);
      }
      watcher.restarting.add(node);
      try {
        await options.rejoin(watcher.primaryNode());
        watcher.record(killed?.wasPrimary ? 'rejoined-as-replica' : 'replica-attached', node, `to ${watcher.primaryNode().id}`);
      } finally {
        watcher.restarting.delete(node);
      }
      killed = undefined;
    },
    pause: options.pause,
    unpause: options.unpause,
  };
}
