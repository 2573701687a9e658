import { describe, expect, it } from 'vitest';
import { postgres } from '../stores/postgres.js';
import { POSTGRES_ENDPOINT_SERVICE, replicatedPostgresContainers } from './postgres-containers.js';

describe('replicated PostgreSQL as containers', () => {
  const pgOptions = (mode: 'async' | 'sync') => ({ replication: { replicas: 2, mode, profile: 'fast' as const } });

  it('on a bridge network: every node runs the same streaming settings; links and the endpoint forward to nodes by name', () => {
    const plan = replicatedPostgresContainers(postgres.docker, 'postgres:16', 'app', { network: 'bridge' }, pgOptions('async'), postgres.nodes(pgOptions('async')));
    expect(plan.nodes.map((node) => [node.plan.service, node.role])).toEqual([['postgres-node-1', 'primary'], ['postgres-node-2', 'replica'], ['postgres-node-3', 'replica']]);
    for (const node of plan.nodes) {
      expect(node.plan.command.slice(0, 5)).toEqual(['postgres', '-p', '5432', '-c', 'listen_addresses=*']);
      expect(node.plan.command).toEqual(expect.arrayContaining(['-c', 'wal_level=replica', '-c', 'hot_standby=on']));
      expect(node.plan.command.join(' ')).not.toMatch(/synchronous_standby_names/);
    }
    expect(plan.nodes[2]!.link.plan.service).toBe('postgres-link-node-3');
    expect(plan.nodes[2]!.link.plan.env.HACTL_FAULT_PROXY_UPSTREAM).toBe('postgres-node-3:5432');
    expect(plan.nodes[0]!.link.reachAt).toEqual({ host: 'postgres-link-node-1', port: 7000 });
    expect(plan.endpoint.plan.service).toBe(POSTGRES_ENDPOINT_SERVICE);
    expect(plan.endpoint.plan.env.HACTL_FAULT_PROXY_UPSTREAM).toBe('postgres-node-1:5432');
    expect(plan.url).toBe('postgres://hactl@postgres-primary:7000/postgres');
  });

  it('sync-standby: every node names a synchronous standby, so that a promoted one acknowledges no commit alone', () => {
    const plan = replicatedPostgresContainers(postgres.docker, 'postgres:16', 'app', { network: 'bridge' }, pgOptions('sync'), postgres.nodes(pgOptions('sync')));
    for (const node of plan.nodes) expect(node.plan.command.slice(-2)).toEqual(['-c', 'synchronous_standby_names=*']);
  });

  it('on the host network: nodes listen on 127.0.0.1 ports of their own', () => {
    const services = ['postgres-node-1', 'postgres-node-2', 'postgres-link-node-1', 'postgres-link-node-2', POSTGRES_ENDPOINT_SERVICE];
    const hostPorts = Object.fromEntries(services.map((service, i) => [service, [30_000 + 2 * i, 30_001 + 2 * i]]));
    const one = { replication: { replicas: 1, mode: 'async' as const, profile: 'fast' as const } };
    const plan = replicatedPostgresContainers(postgres.docker, 'postgres:16', 'app', { network: 'host', hostPorts }, one, postgres.nodes(one));
    expect(plan.nodes[1]!.plan.command.slice(0, 5)).toEqual(['postgres', '-p', '30002', '-c', 'listen_addresses=127.0.0.1']);
    expect(plan.nodes[1]!.link.reachAt).toEqual({ host: '127.0.0.1', port: 30006 });
    expect(plan.url).toBe('postgres://hactl@127.0.0.1:30008/postgres');
  });
});
