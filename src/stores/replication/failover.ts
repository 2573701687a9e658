import { sleep } from '../../platform/time.js';
import { FailoverLog } from './failover-log.js';
import type { FailoverEvent, FailoverTimings, StoreNode } from '../store.js';

/** What a failover needs from one kind of store: ask a node how it stands, promote it, point it at a primary. */
export interface ReplicationDriver {
  /** The node's role and replication offset as it says them; undefined when it does not answer. */
  status(node: StoreNode): Promise<NodeStatus | undefined>;
  /** Makes the node a primary that takes writes. */
  promote(node: StoreNode): Promise<void>;
  /** Makes the node replicate from `primary`. */
  follow(node: StoreNode, primary: StoreNode): Promise<void>;
}

export interface NodeStatus {
  role: 'primary' | 'replica';
  /** How much of the replication stream the node has (a primary: has written; a replica: has applied). */
  offset: number;
}

/** The endpoint apps connect to, which the failover re-points. */
export interface MovableEndpoint {
  moveTo(node: StoreNode): Promise<void>;
}

/**
 * The replica to promote when the primary is gone: the one furthest along the replication stream
 * (ElastiCache promotes "the read replica with the least replication lag"), ties to the first.
 * Undefined when no replica answered.
 */
export function chooseSuccessor(candidates: ReadonlyArray<{ node: StoreNode; status: NodeStatus | undefined }>): StoreNode | undefined {
  let best: { node: StoreNode; offset: number } | undefined;
  for (const { node, status } of candidates) {
    if (!status) continue;
    if (!best || status.offset > best.offset) best = { node, offset: status.offset };
  }
  return best?.node;
}

/**
 * hactl playing the managed service's failover (ElastiCache Multi-AZ, RDS Multi-AZ): it checks the
 * primary every `checkIntervalMs`; after `unhealthyThreshold` failed checks in a row it promotes
 * the replica furthest along, waits `switchDelayMs` (the endpoint's DNS change), re-points the
 * endpoint and attaches the other replicas, and the replaced primary if it still runs (it was
 * only slow or frozen), to the new primary. It also watches every running node's role: two
 * primaries at once (split brain) are seen, and a node that says it is primary and is not the
 * current one is made a replica.
 */
export class FailoverController {
  private readonly steps = new FailoverLog();
  private current: StoreNode;
  private failures = 0;
  private primariesAtOnce = 1;
  private stopped = false;
  private failingOver = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nodes: readonly StoreNode[],
    private readonly driver: ReplicationDriver,
    private readonly endpoint: MovableEndpoint,
    private readonly timings: FailoverTimings,
    /** Whether a node's server is running (hactl started it and has not killed it): only those are asked. */
    private readonly running: (node: StoreNode) => boolean,
  ) {
    const primary = nodes.find((node) => node.role === 'primary');
    if (!primary) throw new Error('a replicated store needs a primary node');
    this.current = primary;
  }

  primary(): StoreNode {
    return this.current;
  }

  events(): readonly FailoverEvent[] {
    return this.steps.events();
  }

  mostPrimariesAtOnce(): number {
    return this.primariesAtOnce;
  }

  record(kind: FailoverEvent['kind'], node: StoreNode, detail?: string): void {
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

  private async run(): Promise<void> {
    while (!this.stopped) {
      await sleep(this.timings.checkIntervalMs);
      if (this.stopped || this.failingOver) continue;
      await this.tick().catch(() => undefined);
    }
  }

  private async tick(): Promise<void> {
    const statuses = await Promise.all(this.nodes.map(async (node) => ({ node, status: this.running(node) ? await this.driver.status(node) : undefined })));
    if (this.stopped) return;
    const primaries = statuses.filter(({ node, status }) => status?.role === 'primary' && this.running(node));
    this.primariesAtOnce = Math.max(this.primariesAtOnce, primaries.length);
    // A primary that was only slow or frozen when it was replaced wakes up still a primary: it is
    // made a replica of the current one (the endpoint no longer reaches it), as the managed
    // service fences a replaced node.
    for (const { node } of primaries) {
      if (node === this.current) continue;
      await this.driver.follow(node, this.current).then(
        () => this.record('replica-attached', node, `to ${this.current.id} (it still said it was primary)`),
        () => undefined,
      );
    }
    const primary = statuses.find(({ node }) => node === this.current);
    if (primary?.status) {
      this.failures = 0;
      return;
    }
    this.failures += 1;
    if (this.failures < this.timings.unhealthyThreshold) return;
    this.failingOver = true;
    try {
      await this.failOver(statuses.filter(({ node }) => node !== this.current));
    } finally {
      this.failingOver = false;
    }
  }

  private async failOver(candidates: ReadonlyArray<{ node: StoreNode; status: NodeStatus | undefined }>): Promise<void> {
    const dead = this.current;
    const successor = chooseSuccessor(candidates.filter(({ node }) => this.running(node)));
    this.record('primary-down', dead, `${this.failures} failed checks ${this.timings.checkIntervalMs} ms apart`);
    // No replica to promote: the endpoint stays where it is, and the next check tries again.
    if (!successor) return;
    this.failures = 0;
    await this.driver.promote(successor);
    dead.role = 'replica';
    successor.role = 'primary';
    this.current = successor;
    this.record('promoted', successor, `replaces ${dead.id}`);
    if (this.timings.switchDelayMs > 0) await sleep(this.timings.switchDelayMs);
    await this.endpoint.moveTo(successor);
    this.record('endpoint-moved', successor);
    // The replaced primary too, when hactl did not kill it (it was slow or frozen): if it does not
    // answer now, the next checks demote it once it does.
    for (const { node } of [...candidates, { node: dead }]) {
      if (node === successor || !this.running(node)) continue;
      await this.driver.follow(node, successor).then(
        () => this.record('replica-attached', node, `to ${successor.id}`),
        () => undefined,
      );
    }
  }
}
