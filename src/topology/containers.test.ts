import { describe, expect, it } from 'vitest';
import { redis } from '../stores/redis.js';
import { replicatedRedisContainers, REDIS_ENDPOINT_SERVICE } from './containers.js';

const options = { persistence: 'none' as const, replication: { replicas: 2, mode: 'async' as const, profile: 'fast' as const } };
const nodes = redis.nodes(options);

describe('replicated Redis as containers', () => {
  it('on a bridge network: replicas follow the primary through its link by name; the endpoint and links forward to nodes by name', () => {
    const plan = replicatedRedisContainers(redis.docker, 'redis:7', 'app', { network: 'bridge' }, options, nodes);
    expect(plan.nodes.map((node) => node.plan.service)).toEqual(['redis-node-1', 'redis-node-2', 'redis-node-3']);
    expect(plan.nodes[0]!.plan.command).not.toContain('--replicaof');
    expect(plan.nodes[0]!.plan.command).toContain('--repl-diskless-sync');
    expect(plan.nodes[2]!.plan.command.slice(-3)).toEqual(['--replicaof', 'redis-link-node-1', '7000']);
    expect(plan.nodes[1]!.link.plan.env.HACTL_FAULT_PROXY_UPSTREAM).toBe('redis-node-2:6379');
    expect(plan.endpoint.plan.service).toBe(REDIS_ENDPOINT_SERVICE);
    expect(plan.endpoint.plan.env.HACTL_FAULT_PROXY_UPSTREAM).toBe('redis-node-1:6379');
    expect(plan.url).toBe('redis://redis-primary:7000');
    // A node replaced after a failover follows the primary of the moment.
    expect(plan.nodeContainer('node-1', 'node-2').command.slice(-3)).toEqual(['--replicaof', 'redis-link-node-2', '7000']);
  });

  it('on the host network: every node, link and the endpoint on 127.0.0.1 ports of their own', () => {
    const services = ['redis-node-1', 'redis-node-2', 'redis-node-3', 'redis-link-node-1', 'redis-link-node-2', 'redis-link-node-3', REDIS_ENDPOINT_SERVICE];
    const hostPorts = Object.fromEntries(services.map((service, i) => [service, [20_000 + 2 * i, 20_001 + 2 * i]]));
    const plan = replicatedRedisContainers(redis.docker, 'redis:7', 'app', { network: 'host', hostPorts }, options, nodes);
    expect(plan.nodes[1]!.plan.command).toEqual(expect.arrayContaining(['--port', '20002', '--bind', '127.0.0.1']));
    expect(plan.nodes[1]!.plan.command.slice(-3)).toEqual(['--replicaof', '127.0.0.1', '20006']);
    expect(plan.nodes[0]!.link.plan.env.HACTL_FAULT_PROXY_UPSTREAM).toBe('127.0.0.1:20000');
    expect(plan.url).toBe('redis://127.0.0.1:20012');
  });
});
