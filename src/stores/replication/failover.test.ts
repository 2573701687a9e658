import { describe, expect, it } from 'vitest';
import type { StoreNode } from '../store.js';
import { chooseSuccessor } from './failover.js';

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
