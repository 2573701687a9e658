import { describe, expect, it } from 'vitest';
import { mongo } from '../stores/mongo.js';
import { replicaSetContainers, replicaSetInitContainer } from './mongo-containers.js';

const options = (mode: 'async' | 'sync', replicas = 2) => ({ replication: { replicas, mode, profile: 'fast' as const, decidedBy: 'election' as const } });

describe('a mongo replica set as containers', () => {
  it('on a bridge network: members named by service in the config and the URL, with the election timed by the profile', () => {
    const plan = replicaSetContainers(mongo.docker, 'mongo:7', { network: 'bridge' }, options('async'), mongo.nodes(options('async')));
    expect(plan.members.map(({ plan: member }) => member.service)).toEqual(['mongo-node-1', 'mongo-node-2', 'mongo-node-3']);
    expect(plan.members[1]!.plan.command.slice(0, 7)).toEqual(['mongod', '--port', '27017', '--bind_ip', '0.0.0.0', '--replSet', 'hactl']);
    expect(plan.config).toEqual({
      _id: 'hactl',
      members: [0, 1, 2].map((i) => ({ _id: i, host: `mongo-node-${i + 1}:27017` })),
      settings: { heartbeatIntervalMillis: 200, electionTimeoutMillis: 1000 },
    });
    expect(plan.url).toBe('mongodb://mongo-node-1:27017,mongo-node-2:27017,mongo-node-3:27017/hactl?replicaSet=hactl&w=1');
    expect(replicaSetInitContainer(plan, 'mongo:7').command.at(-1)).toContain('--host mongo-node-1:27017');
  });

  it('on the host network: each member on a 127.0.0.1 port of its own, in the config as in its command', () => {
    const hostPorts = { 'mongo-node-1': [21_000], 'mongo-node-2': [21_001], 'mongo-node-3': [21_002], 'mongo-node-4': [21_003], 'mongo-node-5': [21_004] };
    const plan = replicaSetContainers(mongo.docker, 'mongo:7', { network: 'host', hostPorts }, options('sync', 4), mongo.nodes(options('sync', 4)));
    expect(plan.members[4]!.plan.command.slice(0, 5)).toEqual(['mongod', '--port', '21004', '--bind_ip', '127.0.0.1']);
    expect(plan.config.members.map((member) => member.host)).toEqual([0, 1, 2, 3, 4].map((i) => `127.0.0.1:${21_000 + i}`));
    expect(plan.url).toMatch(/^mongodb:\/\/127\.0\.0\.1:21000,.*127\.0\.0\.1:21004\/hactl\?replicaSet=hactl&w=majority$/);
  });

  it('refuses a set that could not elect once its primary is killed, before anything starts', () => {
    expect(() => mongo.nodes(options('async', 1))).toThrow(/--store-replicas 1: a MongoDB replica set of 2 members cannot elect a primary/);
  });
});
