import { describe, expect, it } from 'vitest';
import { EnvironmentError, UsageError } from '../platform/errors.js';
import { mongo as mongoStrategy } from '../strategies/mongo.js';
import {
  electionSettings,
  lagFromStatus,
  memberUrl,
  MONGO_FAILOVER_TIMINGS,
  parseSetStatus,
  replicaSetConfig,
  replicaSetNodes,
  replicaSetUrl,
  watchStep,
  type MemberPoll,
} from './mongo-replica-set.js';
import { mongo } from './mongo.js';
import type { LocalStoreContext } from './store.js';

const members = [
  { id: 'node-1', host: '127.0.0.1', port: 27017 },
  { id: 'node-2', host: '127.0.0.1', port: 27018 },
  { id: 'node-3', host: '127.0.0.1', port: 27019 },
];

describe('a mongo replica set, planned', () => {
  it('has 1 + replicas members, node-1 the expected primary; the one-node store keeps one node', () => {
    expect(replicaSetNodes({ replicas: 2, mode: 'async', profile: 'fast' })).toEqual([
      { id: 'node-1', role: 'primary' },
      { id: 'node-2', role: 'replica' },
      { id: 'node-3', role: 'replica' },
    ]);
    expect(mongo.nodes({})).toHaveLength(1);
    expect(mongo.nodes({ replication: { replicas: 4, mode: 'sync', profile: 'aws' } })).toHaveLength(5);
  });

  it('refuses two members, which cannot elect a primary once one is killed', () => {
    expect(() => replicaSetNodes({ replicas: 1, mode: 'async', profile: 'fast' })).toThrow(UsageError);
    expect(() => replicaSetNodes({ replicas: 1, mode: 'async', profile: 'fast' })).toThrow(/--store-replicas 1: a MongoDB replica set of 2 members cannot elect/);
  });

  it('is three members with w: 1 (replica-set) or w: majority (replica-set-majority); the default variant is one node', () => {
    const options = (name: string) => mongoStrategy.storeOptions!(mongoStrategy.variants.find((variant) => variant.name === name)!);
    expect(options('default')).toEqual({});
    expect(options('replica-set')).toEqual({ replication: { replicas: 2, mode: 'async', profile: 'fast', decidedBy: 'election' } });
    expect(options('replica-set-majority')).toEqual({ replication: { replicas: 2, mode: 'sync', profile: 'fast', decidedBy: 'election' } });
  });
});

describe('HACTL_MONGO_URL with a replica-set variant', () => {
  it('is refused in one line, before anything starts: a server hactl does not run is the user\'s deployment, whose failover hactl cannot cause', async () => {
    const context = { env: { HACTL_MONGO_URL: 'mongodb://user:secret@db.example:27017/?replicaSet=rs0' }, runId: 'r1', runDir: '/nonexistent' } as unknown as LocalStoreContext;
    const started = mongo.local.start(context, { replication: { replicas: 2, mode: 'sync', profile: 'fast' } });
    await expect(started).rejects.toThrow(EnvironmentError);
    await expect(started).rejects.toThrow(/HACTL_MONGO_URL \(mongodb:\/\/user:\*\*\*@db\.example:27017\/\?replicaSet=rs0\) names a deployment hactl does not run/);
  });
});

describe('the replica set config and URLs', () => {
  it('names every member by host:port, with equal priorities (none takes the primary back when it rejoins), and the profile election timing', () => {
    const config = replicaSetConfig('hactl-run1', members, MONGO_FAILOVER_TIMINGS.fast);
    expect(config).toEqual({
      _id: 'hactl-run1',
      members: [
        { _id: 0, host: '127.0.0.1:27017' },
        { _id: 1, host: '127.0.0.1:27018' },
        { _id: 2, host: '127.0.0.1:27019' },
      ],
      settings: { heartbeatIntervalMillis: 200, electionTimeoutMillis: 1_000 },
    });
    // The aws profile is MongoDB's own defaults.
    expect(electionSettings(MONGO_FAILOVER_TIMINGS.aws)).toEqual({ heartbeatIntervalMillis: 2_000, electionTimeoutMillis: 10_000 });
  });

  it("gives the app every member, the set's name and the write concern in one URL a driver parses", () => {
    const url = replicaSetUrl('hactl-run 1', members, 'hactl', 'sync');
    expect(url).toBe('mongodb://127.0.0.1:27017,127.0.0.1:27018,127.0.0.1:27019/hactl?replicaSet=hactl-run%201&w=majority');
    expect(replicaSetUrl('s', members, 'hactl', 'async')).toMatch(/&w=1$/);
    // The official driver's own parser, which the demo app uses: w and the set come through.
    return import('mongodb').then(({ MongoClient }) => {
      const client = new MongoClient(url);
      expect(client.options.replicaSet).toBe('hactl-run 1');
      expect(client.options.writeConcern?.w).toBe('majority');
      expect(client.options.hosts.map(String)).toEqual(['127.0.0.1:27017', '127.0.0.1:27018', '127.0.0.1:27019']);
      expect(new MongoClient(memberUrl(members[1]!)).options.directConnection).toBe(true);
    });
  });
});

describe("a member's replSetGetStatus, read", () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms));
  const status = {
    set: 'hactl-run1',
    myState: 1,
    members: [
      { _id: 0, name: '127.0.0.1:27017', health: 1, state: 1, stateStr: 'PRIMARY', optimeDate: at(0), lastAppliedWallTime: at(950) },
      { _id: 1, name: '127.0.0.1:27018', health: 1, state: 2, stateStr: 'SECONDARY', optimeDate: at(0), lastAppliedWallTime: at(700) },
      { _id: 2, name: '127.0.0.1:27019', health: 0, state: 8, stateStr: '(not reachable/healthy)', optimeDate: at(0) },
    ],
    ok: 1,
  };
  const idOf = (name: string) => members.find((member) => `${member.host}:${member.port}` === name)?.id;

  it('gives each reachable secondary its lag in ms from the millisecond wall times, no bytes, and skips an unreachable member', () => {
    const parsed = parseSetStatus(status)!;
    expect(parsed.myState).toBe(1);
    expect(lagFromStatus(parsed, idOf)).toEqual([{ node: 'node-2', bytes: null, ms: 250 }]);
  });

  it('falls back to optimeDate (whole seconds) when a server reports no wall times, and gives no lag without a primary', () => {
    const old = { myState: 1, members: status.members.map(({ lastAppliedWallTime: _, ...member }) => ({ ...member, optimeDate: member.state === 1 ? at(2_000) : at(0) })) };
    expect(lagFromStatus(parseSetStatus(old)!, idOf)).toEqual([{ node: 'node-2', bytes: null, ms: 2_000 }]);
    expect(lagFromStatus(parseSetStatus({ myState: 2, members: [status.members[1]] })!, idOf)).toBeUndefined();
  });

  it('is not a status when the answer is an error or another shape', () => {
    expect(parseSetStatus(undefined)).toBeUndefined();
    expect(parseSetStatus({ ok: 0, errmsg: 'no replset config has been received' })).toBeUndefined();
  });
});

describe('the failover steps a watch sees', () => {
  const poll = (id: string, myState?: number, running = true): MemberPoll => ({ id, running, ...(myState !== undefined ? { answer: { myState, writable: myState === 1 } } : {}) });

  it('sees nothing while the primary answers as primary', () => {
    const seen = watchStep({ primary: 'node-1', down: false }, [poll('node-1', 1), poll('node-2', 2), poll('node-3', 2)]);
    expect(seen.steps).toEqual([]);
    expect(seen.writable).toBe(1);
  });

  it('sees the killed primary down once, then the member the others elected promoted in its place', () => {
    let state = { primary: 'node-1', down: false };
    const killed = watchStep(state, [poll('node-1', undefined, false), poll('node-2', 2), poll('node-3', 2)]);
    expect(killed.steps).toEqual([{ kind: 'primary-down', node: 'node-1', detail: 'stopped answering' }]);
    state = killed.state;
    expect(watchStep(state, [poll('node-1', undefined, false), poll('node-2', 2), poll('node-3', 2)]).steps).toEqual([]);
    const elected = watchStep(state, [poll('node-1', undefined, false), poll('node-2', 2), poll('node-3', 1)]);
    expect(elected.steps).toEqual([{ kind: 'promoted', node: 'node-3', detail: 'replaces node-1' }]);
    expect(elected.state).toEqual({ primary: 'node-3', down: false });
  });

  it('takes a primary that missed one poll and answers as primary again for slow, not down: its real loss later is recorded', () => {
    const slow = watchStep({ primary: 'node-1', down: false }, [poll('node-1'), poll('node-2', 2), poll('node-3', 2)]);
    expect(slow.steps.map((step) => step.kind)).toEqual(['primary-down']);
    const back = watchStep(slow.state, [poll('node-1', 1), poll('node-2', 2), poll('node-3', 2)]);
    expect(back.state).toEqual({ primary: 'node-1', down: false });
    expect(watchStep(back.state, [poll('node-1', undefined, false), poll('node-2', 2), poll('node-3', 2)]).steps.map((step) => step.kind)).toEqual(['primary-down']);
  });

  it('records a primary that stepped down as down, with the state it answers with, before the one elected', () => {
    const seen = watchStep({ primary: 'node-1', down: false }, [poll('node-1', 2), poll('node-2', 1), poll('node-3', 2)]);
    expect(seen.steps).toEqual([
      { kind: 'primary-down', node: 'node-1', detail: 'answers as state 2, no longer primary' },
      { kind: 'promoted', node: 'node-2', detail: 'replaces node-1' },
    ]);
  });

  it('counts two members taking writes at once (split brain), and a killed one never', () => {
    const both = watchStep({ primary: 'node-1', down: false }, [poll('node-1', 1), poll('node-2', 1), poll('node-3', 2)]);
    expect(both.writable).toBe(2);
    expect(both.steps).toEqual([]);
    expect(watchStep({ primary: 'node-1', down: false }, [{ id: 'node-1', running: false, answer: { myState: 1, writable: true } }, poll('node-2', 1)]).writable).toBe(1);
  });
});
