import { describe, expect, it } from 'vitest';
import type { Fault, Sample } from '../driver/records.js';
import { replicasSeen, replicasSeenMessage } from './replicas-seen.js';

let clock = 0;
const on = (replica: string | null, count = 1, status = 200): Sample[] =>
  Array.from({ length: count }, () => {
    clock += 10;
    return { scenario: 's', phase: 'read', kind: 'read', user: 0, replica, status, latencyMs: 1, outcome: 'hit', at: clock, end: clock + 1 };
  });
const kill: Fault = { kind: 'kill-replica', target: 'replica-1', at: 0 };

describe('replicas seen in a row', () => {
  it('counts named replicas, not answers naming none nor the balancer\'s `none`', () => {
    expect([...replicasSeen([...on('web-2', 2), ...on(null, 3, 502), ...on('none'), ...on('web-10'), ...on('web-1')])]).toEqual([
      ['web-1', 1],
      ['web-2', 2],
      ['web-10', 1],
    ]);
  });

  it('says nothing when the number matches --replicas or no answer named a replica', () => {
    expect(replicasSeenMessage([...on('a', 5), ...on('b', 5), ...on('c', 5)], 3, [])).toBeUndefined();
    expect(replicasSeenMessage([...on(null, 5), ...on(null, 5, 502)], 3, [])).toBeUndefined();
    // Over the whole row: the killed replica answered before its kill.
    expect(replicasSeenMessage([...on('a', 5), ...on('b', 5), ...on('c', 5), ...on('b', 5), ...on('c', 5)], 3, [kill])).toBeUndefined();
  });

  it('names both numbers and the replicas seen, with their requests', () => {
    const more = replicasSeenMessage([...on('127.0.0.1:18081', 110), ...on('127.0.0.1:18082', 110), ...on('127.0.0.1:18083', 110), ...on('replica-1', 3)], 3, []);
    expect(more).toBe(
      'answers named 4 distinct replicas (requests: 127.0.0.1:18081 110, 127.0.0.1:18082 110, 127.0.0.1:18083 110, replica-1 3) where --replicas says 3: ' +
        'the replica source may name something other than the replica that answered (a proxy hop, an address or pod name that changes), or --replicas is wrong; ' +
        'imbalance and per-replica figures count the 4 seen',
    );
    const fewer = replicasSeenMessage([...on('web-1', 10), ...on('web-2', 10)], 3, []);
    expect(fewer).toMatch(/^answers named 2 distinct replicas \(requests: web-1 10, web-2 10\) where --replicas says 3: a replica answered none of the row's requests/);
  });

  it('says that a killed replica back under a new name counts as another', () => {
    const message = replicasSeenMessage([...on('pod-a', 5), ...on('pod-b', 5), ...on('pod-c', 5), ...on('pod-d', 5)], 3, [kill]);
    expect(message).toMatch(/; this row killed replica-1, and a replica that comes back under a new name counts as another; /);
  });

  it('lists at most eight names', () => {
    const many = Array.from({ length: 12 }, (_, i) => on(`pod-${i + 1}`)).flat();
    expect(replicasSeenMessage(many, 3, [])).toMatch(/pod-8 1, and 4 more\) where --replicas says 3/);
  });
});
