import { describe, expect, it } from 'vitest';
import type { Fault, Sample } from '../driver/records.js';
import { suspectFaultEvidence } from './fault-evidence.js';

const sample = (replica: string, at: number, status = 200): Sample => ({ scenario: 's', phase: 'p', kind: 'read', user: 0, replica, status, latencyMs: 1, outcome: 'hit', at, end: at + 1 });

describe('suspect failover evidence', () => {
  it('accepts a kill detected after some checks, with no request to the replica afterwards', () => {
    const faults: Fault[] = [{ kind: 'kill-replica', target: 'replica-1', at: 1_000, detectedAt: 1_400 }];
    expect(suspectFaultEvidence(faults, [sample('replica-1', 900), sample('replica-1', 1_200, 502), sample('replica-2', 2_000)])).toBeUndefined();
  });

  it('flags a detection at 0 ms: the balancer had the replica out before the kill (failed open)', () => {
    const faults: Fault[] = [{ kind: 'kill-replica', target: 'replica-1', at: 1_000, detectedAt: 1_000 }];
    expect(suspectFaultEvidence(faults, [])).toMatch(/replica-1 was reported out of rotation 0 ms after the kill/);
  });

  it('flags requests the killed replica still received after detection, with their statuses', () => {
    const faults: Fault[] = [{ kind: 'kill-replica', target: 'replica-1', at: 1_000, detectedAt: 1_400 }];
    const message = suspectFaultEvidence(faults, [sample('replica-1', 1_700, 502), sample('replica-1', 1_800, 200), sample('replica-2', 1_600)]);
    expect(message).toMatch(/replica-1 still received 2 requests after it was out of rotation \(1 answered below 500; statuses 200, 502\)/);
  });

  it('flags a restarted replica that got requests between its drain and its return, not before or after', () => {
    const faults: Fault[] = [{ kind: 'restart-replica', target: 'replica-2', at: 1_000, endAt: 3_000, detail: { drainedMs: 100, abandoned: 0 } }];
    // Before the drain ended, and just before hactl heard that the replica was back (the balancer
    // knew first): not evidence.
    expect(suspectFaultEvidence(faults, [sample('replica-2', 1_050), sample('replica-2', 2_900), sample('replica-2', 3_100)])).toBeUndefined();
    expect(suspectFaultEvidence(faults, [sample('replica-2', 2_000)])).toMatch(/suspect restart figures: replica-2 still received 1 requests/);
  });

  it('counts a restarted replica\'s requests only until it was registered again: the balancer may put it back before hactl hears', () => {
    const faults: Fault[] = [{ kind: 'restart-replica', target: 'replica-2', at: 1_000, endAt: 4_000, detail: { drainedMs: 100, abandoned: 0, registeredMs: 1_500 } }];
    // Registered at 2.5 s, heard back at 4 s (a late poll): what it answered from 2.5 s on is no evidence.
    expect(suspectFaultEvidence(faults, [sample('replica-2', 2_400), sample('replica-2', 3_000), sample('replica-2', 3_500)])).toBeUndefined();
    expect(suspectFaultEvidence(faults, [sample('replica-2', 2_000)])).toMatch(/replica-2 still received 1 requests/);
  });

  it('says nothing of a fault the balancer was never asked about', () => {
    expect(suspectFaultEvidence([{ kind: 'kill-store', target: 'redis', at: 1_000, detail: { signal: 'SIGKILL', downMs: 0 } }], [sample('replica-1', 2_000)])).toBeUndefined();
  });
});
