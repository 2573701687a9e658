import { describe, expect, it } from 'vitest';
import { killReplica } from './phases/kill-replica.js';
import { read } from './phases/read.js';
import { phaseUnits } from './phases/index.js';

describe('a phase unit binds itself to its own options', () => {
  it('parses options once, at load, and hands them to its own hooks', () => {
    const bound = read.bind('after', { reads: 6 });
    if (!bound.success) throw new Error('expected valid read options');
    expect(bound.phase.name).toBe('after');
    expect(bound.phase.unit.kind).toBe('read');
    expect(bound.phase.readsPerUser({ replicas: 3, users: 10, reads: 4 })).toBe(6);
    expect(bound.phase.balancerWait()).toBeUndefined();
    expect(phaseUnits['read']!.bind('wait', { until: 'fault-detected', timeoutMs: 20_000 })).toMatchObject({ success: true });
  });

  it('refuses options that are not its own, naming the field', () => {
    const bound = phaseUnits['read']!.bind('after', { replica: 2 });
    expect(bound.success).toBe(false);
    expect(bound.success ? [] : bound.issues.map((issue) => issue.message)).toEqual([expect.stringMatching(/replica/)]);
  });

  it("types a unit's run by its own options (checked by tsc, not at run time)", () => {
    const kill = killReplica.options.parse({});
    // @ts-expect-error: a read phase's run does not take kill-replica's options.
    const wrong: Parameters<typeof read.run>[1] = kill;
    expect(wrong).toEqual({ replica: 1, signal: 'SIGKILL' });
  });
});
