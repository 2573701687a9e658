import { describe, expect, it } from 'vitest';
import type { StoreNode } from '../store.js';
import { chooseSuccessor, FailoverController, type NodeStatus, type ReplicationDriver } from './failover.js';

const node = (id: string): StoreNode => ({ id, role: 'replica', address: { known: false, why: 'test' } });

describe('the replica a failover promotes', () => {
  it('is the one furthest along the replication stream, the first on a tie', () => {
    const [a, b, c] = [node('node-2'), node('node-3'), node('node-4')];
    expect(chooseSuccessor([{ node: a, status: { role: 'replica', offset: 10 } }, { node: b, status: { role: 'replica', offset: 30 } }, { node: c, status: { role: 'replica', offset: 30 } }])).toBe(b);
  });

  it('is never one that did not answer, and none when no replica answered', () => {
    const [a, b] = [node('node-2'), node('node-3')];
    expect(chooseSuccessor([{ node: a, status: undefined }, { node: b, status: { role: 'replica', offset: 0 } }])).toBe(b);
    expect(chooseSuccessor([{ node: a, status: undefined }])).toBeUndefined();
  });
});

describe('hactl\'s failover, against a driver that says what the test says', () => {
  const timings = { profile: 'fast' as const, checkIntervalMs: 5, unhealthyThreshold: 3, switchDelayMs: 0, source: 'test' };

  function cluster() {
    const nodes: StoreNode[] = [{ id: 'node-1', role: 'primary', address: { known: false, why: 'test' } }, node('node-2'), node('node-3')];
    const said = new Map<StoreNode, NodeStatus | undefined>([
      [nodes[0]!, { role: 'primary', offset: 100 }],
      [nodes[1]!, { role: 'replica', offset: 90 }],
      [nodes[2]!, { role: 'replica', offset: 95 }],
    ]);
    const calls: string[] = [];
    const driver: ReplicationDriver = {
      status: async (n) => said.get(n),
      promote: async (n) => {
        calls.push(`promote ${n.id}`);
        said.set(n, { role: 'primary', offset: said.get(n)!.offset });
      },
      follow: async (n, to) => {
        calls.push(`follow ${n.id} ${to.id}`);
        // A node that does not answer takes no command either.
        const now = said.get(n);
        if (!now) throw new Error(`${n.id} does not answer`);
        said.set(n, { role: 'replica', offset: now.offset });
      },
    };
    const moved: string[] = [];
    const controller = new FailoverController(nodes, driver, { moveTo: async (n) => void moved.push(n.id) }, timings, () => true);
    return { nodes, said, calls, moved, controller };
  }

  it('promotes the replica furthest along once the primary missed its checks, moves the endpoint, attaches the other', async () => {
    const { nodes, said, calls, moved, controller } = cluster();
    controller.start();
    said.set(nodes[0]!, undefined);
    expect(await controller.waitFor('endpoint-moved', 0, 2_000)).toMatchObject({ node: 'node-3' });
    await controller.stop();
    expect(calls.slice(0, 3)).toEqual(['promote node-3', 'follow node-2 node-3', 'follow node-1 node-3']);
    expect(moved).toEqual(['node-3']);
    expect(controller.primary().id).toBe('node-3');
    expect(controller.events().map((event) => event.kind)).toEqual(['primary-down', 'promoted', 'endpoint-moved', 'replica-attached']);
  });

  it('makes a replaced primary that wakes up still a primary a replica of the new one, and says two were seen', async () => {
    const { nodes, said, calls, controller } = cluster();
    controller.start();
    // Frozen, not killed: it still runs, and comes back saying it is primary.
    said.set(nodes[0]!, undefined);
    await controller.waitFor('endpoint-moved', 0, 2_000);
    // The failover is over (node-1 did not answer its demotion), then node-1 thaws.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const thawed = Date.now();
    said.set(nodes[0]!, { role: 'primary', offset: 100 });
    const demoted = await controller.waitFor('replica-attached', thawed, 2_000);
    await controller.stop();
    expect(calls).toContain('follow node-1 node-3');
    expect(said.get(nodes[0]!)?.role).toBe('replica');
    expect(demoted).toMatchObject({ node: 'node-1', detail: 'to node-3 (it still said it was primary)' });
    expect(controller.mostPrimariesAtOnce()).toBe(2);
  });
});
