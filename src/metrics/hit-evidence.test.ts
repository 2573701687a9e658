import { describe, expect, it } from 'vitest';
import type { Sample } from '../driver/records.js';
import { noHitEvidence } from './hit-evidence.js';

const miss = (status: number): Sample => ({ scenario: 's', phase: 'p', kind: 'read', user: 0, replica: 'replica-1', status, latencyMs: 1, outcome: 'miss', at: 0, end: 1 });

describe('a hit predicate that never held', () => {
  it('is evidence once so many reads missed that chance cannot explain it, with their statuses', () => {
    const misses = [...Array(290).fill(miss(200)), ...Array(10).fill(miss(401))] as Sample[];
    expect(noHitEvidence(300, 0, 3, misses)).toMatch(/^no read of the 300 answered satisfied the profile's hit predicate \(statuses: 200 ×290, 401 ×10\)/);
  });

  it('says nothing of a row with a hit, or of too few reads to tell', () => {
    expect(noHitEvidence(300, 0.01, 3, [])).toBeUndefined();
    // (2/3)^30 is about 5e-6: 30 misses could be chance on per-replica memory behind round robin.
    expect(noHitEvidence(30, 0, 3, [])).toBeUndefined();
    expect(noHitEvidence(35, 0, 3, [])).toBeDefined();
    expect(noHitEvidence(0, null, 3, [])).toBeUndefined();
  });
});
