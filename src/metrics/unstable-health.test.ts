import { describe, expect, it } from 'vitest';
import type { Fault } from '../driver/records.js';
import { unstableHealth } from './unstable-health.js';

const replicas = ['replica-1', 'replica-2', 'replica-3'];
const since = 10_000;
const kill: Fault = { kind: 'kill-replica', target: 'replica-1', at: 500 };

describe('unstableHealth', () => {
  it('says nothing when only the killed replica left rotation, or targets came up at the start', () => {
    const changes = [
      { targetId: 'replica-2', healthy: true, at: 9_000 },
      { targetId: 'replica-2', healthy: false, at: 9_500 },
      { targetId: 'replica-1', healthy: false, at: 11_000 },
    ];
    expect(unstableHealth(changes, [kill], replicas, since)).toBeUndefined();
  });

  it('names a replica no fault touched, when it left and for how long', () => {
    const changes = [
      { targetId: 'replica-2', healthy: false, at: 11_400 },
      { targetId: 'replica-1', healthy: false, at: 11_500 },
      { targetId: 'replica-2', healthy: true, at: 11_800 },
      { targetId: 'replica-3', healthy: false, at: 12_000 },
    ];
    const message = unstableHealth(changes, [kill], replicas, since)!;
    expect(message).toContain('(replica-2 at 1.4 s for 0.4 s; replica-3 at 2.0 s, not back by the end)');
    expect(message).not.toContain('replica-1');
  });

  it('leaves a row with a store fault alone: an app whose health asks its store fails its checks then', () => {
    const changes = [{ targetId: 'replica-2', healthy: false, at: 11_000 }];
    expect(unstableHealth(changes, [{ kind: 'kill-store', target: 'redis', at: 500, detail: { signal: 'SIGKILL', downMs: 1000 } }], replicas, since)).toBeUndefined();
    expect(unstableHealth(changes, [], replicas, since)).toContain('replica-2 at 1.0 s');
  });
});
