import { describe, expect, it } from 'vitest';
import { parseSentinelUrl } from '../app/stores/sentinel-url.js';
import { redis } from '../stores/redis.js';
import { sentinelRedisContainers, SENTINEL_PORT } from './sentinel-containers.js';

const options = { persistence: 'none' as const, replication: { replicas: 2, mode: 'async' as const, profile: 'fast' as const, decidedBy: 'sentinel' as const } };
const nodes = redis.nodes(options);

describe('redis:sentinel as containers', () => {
  it('on a bridge network: nodes announce their links by name, Sentinels monitor the primary\'s link by name, apps map links to nodes', () => {
    const plan = sentinelRedisContainers(redis.docker, 'redis:7', 'app', { network: 'bridge' }, options, nodes);
    expect(plan.nodes.map((node) => node.plan.service)).toEqual(['redis-node-1', 'redis-node-2', 'redis-node-3']);
    expect(plan.sentinels.map((sentinel) => sentinel.plan.service)).toEqual(['redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3']);
    expect(plan.nodes[0]!.plan.command).not.toContain('--replicaof');
    expect(plan.nodes[0]!.plan.command.slice(-4)).toEqual(['--replica-announce-ip', 'redis-link-node-1', '--replica-announce-port', '7000']);
    const replica = plan.nodes[2]!.plan.command;
    expect(replica.slice(replica.indexOf('--replicaof'), replica.indexOf('--replicaof') + 3)).toEqual(['--replicaof', 'redis-link-node-1', '7000']);
    expect(replica.slice(-4)).toEqual(['--replica-announce-ip', 'redis-link-node-3', '--replica-announce-port', '7000']);

    const sentinel = plan.sentinels[1]!.plan;
    expect(sentinel.ports).toEqual([SENTINEL_PORT]);
    expect(sentinel.command.join(' ')).toMatch(/--sentinel$/);
    const config = sentinel.env.HACTL_SENTINEL_CONFIG!.split('\n');
    expect(config).toEqual(expect.arrayContaining(['port 26379', 'bind 0.0.0.0', 'sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes', 'sentinel monitor hactl redis-link-node-1 7000 2', 'sentinel down-after-milliseconds hactl 2000']));
    // Names resolve only once Sentinel is told to: the switch comes before the monitor line that needs it.
    expect(config.indexOf('sentinel resolve-hostnames yes')).toBeLessThan(config.indexOf('sentinel monitor hactl redis-link-node-1 7000 2'));

    expect(parseSentinelUrl(plan.url)).toEqual({
      sentinels: [1, 2, 3].map((i) => ({ host: `redis-sentinel-${i}`, port: 26379 })),
      masterName: 'hactl',
      map: Object.fromEntries([1, 2, 3].map((i) => [`redis-link-node-${i}:7000`, { host: `redis-node-${i}`, port: 6379 }])),
    });
    // A node replaced after the Sentinels' failover follows the new primary's link and still announces its own.
    const replaced = plan.nodeContainer('node-1', 'node-2').command;
    expect(replaced.slice(replaced.indexOf('--replicaof'), replaced.indexOf('--replicaof') + 3)).toEqual(['--replicaof', 'redis-link-node-2', '7000']);
    expect(replaced.slice(-4)).toEqual(['--replica-announce-ip', 'redis-link-node-1', '--replica-announce-port', '7000']);
  });

  it('on the host network: everything on 127.0.0.1 ports of its own, Sentinels by address (no name resolution)', () => {
    const services = ['redis-node-1', 'redis-node-2', 'redis-node-3', 'redis-link-node-1', 'redis-link-node-2', 'redis-link-node-3', 'redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3'];
    const hostPorts = Object.fromEntries(services.map((service, i) => [service, [20_000 + 2 * i, 20_001 + 2 * i]]));
    const plan = sentinelRedisContainers(redis.docker, 'redis:7', 'app', { network: 'host', hostPorts }, options, nodes);
    expect(plan.nodes[1]!.plan.command.slice(-4)).toEqual(['--replica-announce-ip', '127.0.0.1', '--replica-announce-port', '20008']);
    const config = plan.sentinels[0]!.plan.env.HACTL_SENTINEL_CONFIG!.split('\n');
    expect(config).toEqual(expect.arrayContaining(['port 20012', 'bind 127.0.0.1', 'sentinel monitor hactl 127.0.0.1 20006 2']));
    expect(config).not.toContain('sentinel resolve-hostnames yes');
    expect(parseSentinelUrl(plan.url).map).toMatchObject({ '127.0.0.1:20006': { host: '127.0.0.1', port: 20000 } });
  });
});
