import { describe, expect, it } from 'vitest';
import { parseScenario } from '../config/scenario.js';
import { chooseNode, nodeChoiceProblems, nodeTarget, proxiedNode, throughProxy } from './node-choice.js';
import { nodeAddress, ONE_NODE, oneNodeStore, type StoreNodePlan } from './store.js';

/** What issue 17's redis:replica will look like: a primary and two replicas. */
const replicated: StoreNodePlan[] = [
  { id: 'node-1', role: 'primary' },
  { id: 'node-2', role: 'replica' },
  { id: 'node-3', role: 'replica' },
];

const redisStore = () =>
  oneNodeStore({ name: 'redis', description: 'redis-server on 127.0.0.1:6379', address: nodeAddress('redis://127.0.0.1:6379'), stop: async () => {} });

function scenario(...phases: Record<string, unknown>[]) {
  return parseScenario({ name: 'custom', description: 'd', phases: [{ name: 'login', do: 'login' }, ...phases] }, 'custom.yaml');
}

describe('choosing a store node', () => {
  it('defaults to the primary, as kill-store always did', () => {
    expect(chooseNode('redis', ONE_NODE, {})).toEqual({ id: 'node-1', role: 'primary' });
    expect(chooseNode('redis', replicated, {})).toEqual({ id: 'node-1', role: 'primary' });
  });

  it('takes a node by id, or the first node holding a role', () => {
    expect(chooseNode('redis', replicated, { node: 'node-3' })).toEqual({ id: 'node-3', role: 'replica' });
    expect(chooseNode('redis', replicated, { role: 'replica' })).toEqual({ id: 'node-2', role: 'replica' });
  });

  it('names the choices in one line when the store has no such node or role', () => {
    expect(chooseNode('redis', ONE_NODE, { node: 'node-2' })).toBe('redis has no node node-2; its nodes: node-1 (primary)');
    expect(chooseNode('postgres', ONE_NODE, { role: 'replica' })).toBe('postgres has no replica node; give role: primary, or node: node-1');
    // A topology without a primary (shards) must be told which node: the default does not exist.
    const shards: StoreNodePlan[] = [
      { id: 'node-1', role: 'shard' },
      { id: 'node-2', role: 'shard' },
    ];
    expect(chooseNode('memcached', shards, {})).toBe('memcached has no primary node (the default); give role: shard, or node: node-1 or node: node-2');
  });
});

describe('node and role in scenario files', () => {
  it('are options of kill-store and store-fault; the built-in form (neither) still loads', () => {
    const parsed = scenario(
      { name: 'kill', do: 'kill-store', role: 'primary' },
      { name: 'slow', do: 'store-fault', node: 'node-1', toxic: { type: 'latency', latencyMs: 50 }, durationMs: 100 },
      { name: 'kill-again', do: 'kill-store' },
    );
    expect(parsed.phases.slice(1).map((phase) => phase.storeNode())).toEqual([{ role: 'primary' }, { node: 'node-1' }, {}]);
  });

  it('refuse both at once, naming the phase', () => {
    expect(() => scenario({ name: 'kill', do: 'kill-store', node: 'node-1', role: 'primary' })).toThrow('custom.yaml: phases[1]: give node or role, not both');
  });

  it('are checked against a store\'s nodes at load, one line per problem naming the scenario, phase and choices', () => {
    const parsed = scenario({ name: 'kill', do: 'kill-store', node: 'node-2' }, { name: 'slow', do: 'store-fault', role: 'replica', toxic: { type: 'down' }, durationMs: 100 });
    expect(nodeChoiceProblems(parsed, { name: 'redis', label: 'redis:aof-always', nodes: ONE_NODE })).toEqual([
      'scenario custom, phase "kill" (kill-store) on redis:aof-always: redis has no node node-2; its nodes: node-1 (primary)',
      'scenario custom, phase "slow" (store-fault) on redis:aof-always: redis has no replica node; give role: primary, or node: node-1',
    ]);
    expect(nodeChoiceProblems(parsed, { name: 'redis', label: 'redis', nodes: replicated })).toEqual([]);
  });

  it('allow one fault proxy per scenario: store-fault phases on two nodes are a problem', () => {
    const toxic = { toxic: { type: 'down' }, durationMs: 100 };
    const parsed = scenario({ name: 'a', do: 'store-fault', ...toxic }, { name: 'b', do: 'store-fault', node: 'node-2', ...toxic });
    expect(nodeChoiceProblems(parsed, { name: 'redis', label: 'redis', nodes: replicated })).toEqual([
      'scenario custom on redis: its fault-proxy phases choose different nodes ("a" on node-1, "b" on node-2); a scenario has one fault proxy, in front of one node',
    ]);
    const same = scenario({ name: 'a', do: 'store-fault', ...toxic }, { name: 'b', do: 'store-fault', role: 'primary', ...toxic });
    expect(nodeChoiceProblems(same, { name: 'redis', label: 'redis', nodes: replicated })).toEqual([]);
  });
});

describe('a fault proxy in front of a node', () => {
  it('is in front of the node the store-fault phases chose, and carries the app endpoint', () => {
    const store = redisStore();
    const parsed = scenario({ name: 'slow', do: 'store-fault', toxic: { type: 'down' }, durationMs: 100 });
    const node = proxiedNode(parsed, store)!;
    expect(node.id).toBe('node-1');
    const proxied = throughProxy(store, node.id, 'redis://127.0.0.1:7000');
    expect(proxied.endpoints.app).toEqual({ url: 'redis://127.0.0.1:7000', nodes: ['node-1'] });
    // The store itself is unchanged: its node is still reached directly by hactl.
    expect(store.endpoints.app?.url).toBe('redis://127.0.0.1:6379');
    expect(proxiedNode(scenario({ name: 'kill', do: 'kill-store' }), store)).toBeUndefined();
  });

  it('is refused when the app endpoint does not reach that node alone, or is unknown', () => {
    const store = { ...redisStore(), endpoints: { app: { url: 'mongodb://a:1,b:2/x', nodes: ['node-1', 'node-2'] } } };
    expect(() => throughProxy(store, 'node-1', 'x')).toThrow('the apps reach redis through node-1, node-2, not through node-1 alone');
    expect(() => throughProxy({ ...store, endpoints: {} }, 'node-1', 'x')).toThrow('hactl does not know where the apps reach redis');
  });
});

describe('fault targets', () => {
  it('are the store\'s name on a one-node store (as reports always said), and name the node on others', () => {
    expect(nodeTarget(redisStore(), { id: 'node-1' })).toBe('redis');
    expect(nodeTarget({ name: 'redis', nodes: replicated.map((node) => ({ ...node, address: { known: false as const, why: '' } })) }, { id: 'node-2' })).toBe('redis node-2');
  });
});
