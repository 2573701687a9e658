import { describe, expect, it } from 'vitest';
import { reachedEveryReplica, replicasAnswered, unreached, type Replay } from './security-replay.js';

const ids = ['replica-1', 'replica-2', 'replica-3'];
const replayOn = (replicas: string[], unknownReplica = 0, fromProfile = false): Replay => ({ reads: replicas.length, shown: 0, replicas: new Set(replicas), showingReplicas: new Set(), unknownReplica, fromProfile });

describe('which replicas replays reached', () => {
  it("names the unreached replicas when answers name them by the cluster's ids", () => {
    expect(unreached(new Set(['replica-2']), ids)).toEqual(['replica-1', 'replica-3']);
    expect(unreached(new Set(), ids)).toEqual(ids);
    expect(replicasAnswered(replayOn(['replica-1', 'replica-3']), ids)).toBe('replica-1, replica-3 (never reached: replica-2)');
    expect(reachedEveryReplica(replayOn(['replica-1', 'replica-3']), ids)).toBe(false);
    expect(reachedEveryReplica(replayOn(ids), ids)).toBe(true);
  });

  it("compares only their number when the names are the app's or its proxy's (a profile's replica: source)", () => {
    expect(unreached(new Set(['web-1', 'web-2']), ids)).toEqual(['1 of 3 replicas']);
    expect(unreached(new Set(['web-1', 'web-2', 'web-3']), ids)).toEqual([]);
    expect(replicasAnswered(replayOn(['web-2', 'web-1']), ids)).toBe('web-1, web-2 (never reached: 1 of 3 replicas)');
    expect(reachedEveryReplica(replayOn(['web-1', 'web-2', 'web-3']), ids)).toBe(true);
    expect(reachedEveryReplica(replayOn(['web-1', 'web-2']), ids)).toBe(false);
  });

  it("ignores hactl's balancer's `none` tag (its own 503, no replica in service): the replica that never answered is named", () => {
    expect(unreached(new Set(['replica-1', 'replica-2', 'none']), ids)).toEqual(['replica-3']);
    expect(unreached(new Set(['none']), ids)).toEqual(ids);
    expect(replicasAnswered(replayOn(['replica-1', 'replica-2', 'none']), ids)).toBe('none, replica-1, replica-2 (never reached: replica-3)');
    expect(reachedEveryReplica(replayOn(['replica-1', 'replica-2', 'none']), ids)).toBe(false);
    expect(reachedEveryReplica(replayOn([...ids, 'none']), ids)).toBe(true);
  });

  it("counts `none` as a replica's name when a profile's replica: source gave it (the app's own word)", () => {
    expect(unreached(new Set(['web-1', 'web-2', 'none']), ids, true)).toEqual([]);
    expect(unreached(new Set(['replica-1', 'replica-2']), ids, true)).toEqual(['1 of 3 replicas']);
    expect(reachedEveryReplica(replayOn(['web-1', 'web-2', 'none'], 0, true), ids)).toBe(true);
  });
});
