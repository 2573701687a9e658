import { describe, expect, it } from 'vitest';
import type { StoreNode } from '../store.js';
import { readerEndpoint } from './reader.js';

const node = (id: string, port: number): StoreNode => ({ id, role: 'replica', address: { known: true, host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}` } });

describe('the reader endpoint', () => {
  const nodes = [node('node-1', 7001), node('node-2', 7002), node('node-3', 7003)];

  function setup() {
    let primary = nodes[0]!;
    const running = new Set(nodes);
    const moves: number[] = [];
    const reader = readerEndpoint({ setUpstream: async ({ port }) => void moves.push(port) }, nodes, { primary: () => primary, running: (n) => running.has(n), reach: (n) => ({ host: '127.0.0.1', port: (n.address as { port: number }).port }), initial: nodes[1]! });
    return { reader, moves, running, promote: (n: StoreNode) => void (primary = n) };
  }

  it('stays on its replica while that one is a running replica', async () => {
    const { reader, moves } = setup();
    await reader.follow();
    expect(reader.node()?.id).toBe('node-2');
    expect(moves).toEqual([]);
  });

  it('says it reaches no replica once its replica is promoted, and moves to another running one', async () => {
    const { reader, moves, running, promote } = setup();
    running.delete(nodes[0]!);
    promote(nodes[1]!);
    expect(reader.node()).toBeUndefined();
    await reader.follow();
    expect(reader.node()?.id).toBe('node-3');
    expect(moves).toEqual([7003]);
  });

  it('with no replica running, stays and says so until one rejoins', async () => {
    const { reader, moves, running, promote } = setup();
    running.delete(nodes[0]!);
    running.delete(nodes[2]!);
    promote(nodes[1]!);
    await reader.follow();
    expect(reader.node()).toBeUndefined();
    expect(moves).toEqual([]);
    running.add(nodes[0]!);
    await reader.follow();
    expect(reader.node()?.id).toBe('node-1');
    expect(moves).toEqual([7001]);
  });
});
