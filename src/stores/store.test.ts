import { describe, expect, it } from 'vitest';
import { stores } from './index.js';
import { dockerReplicationProblem, nodeAddress, ONE_NODE, oneNodeStore, restartable } from './store.js';

describe('the store registry', () => {
  it('keys each module by its own name, the one list StoreName comes from', () => {
    for (const [key, module] of Object.entries(stores)) expect(module.name).toBe(key);
  });

  it('gives every store of today one primary node under every variant', () => {
    for (const module of Object.values(stores)) {
      expect(module.nodes({})).toEqual(ONE_NODE);
      expect(module.nodes({ persistence: 'aof-always' })).toEqual([{ id: 'node-1', role: 'primary' }]);
    }
  });
});

describe('node addresses', () => {
  it('read host, port and the node\'s own URL back', () => {
    expect(nodeAddress('postgres://hactl@postgres:5432/postgres')).toEqual({ known: true, host: 'postgres', port: 5432, url: 'postgres://hactl@postgres:5432/postgres' });
  });

  it('are unknown, with the reason, when the URL names no port or does not parse: hactl does not guess', () => {
    expect(nodeAddress('redis://localhost')).toEqual({ known: false, why: 'its redis:// URL names no host and port' });
    expect(nodeAddress('mongodb+srv://cluster0.example.net/app')).toEqual({ known: false, why: 'its mongodb+srv:// URL names no host and port' });
    expect(nodeAddress('not a url')).toEqual({ known: false, why: 'its URL does not parse' });
  });
});

describe('a one-node store', () => {
  const controls = { kill: async () => {}, start: async () => {}, pause: async () => {}, unpause: async () => {} };

  it('is one primary node whose URL is the app endpoint', () => {
    const store = oneNodeStore({ name: 'redis', description: 'd', address: nodeAddress('redis://127.0.0.1:6379'), controls, stop: async () => {} });
    expect(store.nodes.map(({ id, role, address }) => ({ id, role, address }))).toEqual([
      { id: 'node-1', role: 'primary', address: { known: true, host: '127.0.0.1', port: 6379, url: 'redis://127.0.0.1:6379' } },
    ]);
    expect(store.endpoints).toEqual({ app: { url: 'redis://127.0.0.1:6379', nodes: ['node-1'] } });
    expect(restartable(store.nodes[0]!)).toBe(true);
  });

  it('models a node hactl cannot control or see: no controls, unknown address, no endpoint, not restartable', () => {
    const store = oneNodeStore({ name: 'redis', description: "the deployment's own redis", address: { known: false, why: "the deployment's own redis" }, stop: async () => {} });
    expect(store.nodes[0]).toEqual({ id: 'node-1', role: 'primary', address: { known: false, why: "the deployment's own redis" } });
    expect(store.endpoints).toEqual({});
    expect(restartable(store.nodes[0]!)).toBe(false);
  });

  it('keeps an explicit endpoint when apps are given another URL than the node\'s (HACTL_MONGO_URL with its database)', () => {
    const store = oneNodeStore({ name: 'mongo', description: 'd', address: { known: false, why: 'x' }, endpoint: 'mongodb+srv://c.example.net/hactl_1', stop: async () => {} });
    expect(store.endpoints.app).toEqual({ url: 'mongodb+srv://c.example.net/hactl_1', nodes: ['node-1'] });
  });
});

describe('replicated stores on docker and in compose', () => {
  const replication = (decidedBy?: 'hactl' | 'sentinel' | 'election') => ({ replication: { replicas: 1, mode: 'async' as const, profile: 'fast' as const, ...(decidedBy ? { decidedBy } : {}) } });

  it("run there only where the store's containers exist for the topology's decider (hactl's failover, or the store's own)", () => {
    expect(dockerReplicationProblem(stores.redis, {})).toBeUndefined();
    expect(dockerReplicationProblem(stores.redis, replication())).toBeUndefined();
    expect(dockerReplicationProblem(stores.redis, replication('sentinel'))).toBeUndefined();
    // A recipe with containers for hactl's failover only is not thereby one for Sentinel's.
    expect(dockerReplicationProblem({ name: 'redis', docker: { replicatedByHactl: true } }, replication('sentinel'))).toBe("a replicated redis (a primary, 1 replica(s) and Sentinel's failover) runs on --runtime local only so far");
    expect(dockerReplicationProblem({ name: 'redis', docker: { replicatedByItself: true } }, replication())).toMatch(/hactl's failover\) runs on --runtime local only so far$/);
    expect(dockerReplicationProblem(stores.postgres, replication())).toBeUndefined();
    expect(dockerReplicationProblem(stores.mongo, replication('election'))).toBeUndefined();
    expect(dockerReplicationProblem({ name: 'mongo', docker: {} }, replication('election'))).toMatch(/its own election\) runs on --runtime local only so far$/);
  });
});
