import { describe, expect, it } from 'vitest';
import { initialHealth, recordCheck, type TargetHealth } from './health.js';

const thresholds = { healthyThreshold: 3, unhealthyThreshold: 2 };
const apply = (results: boolean[], start: TargetHealth = initialHealth()) => results.reduce((h, ok) => recordCheck(h, ok, thresholds), start);

describe('target health (ALB healthy/unhealthy thresholds)', () => {
  it('stays healthy after fewer consecutive failures than the unhealthy threshold', () => {
    expect(apply([false]).healthy).toBe(true);
  });

  it('becomes unhealthy after unhealthyThreshold consecutive failures', () => {
    expect(apply([false, false]).healthy).toBe(false);
  });

  it('needs the failures to be consecutive', () => {
    expect(apply([false, true, false, true]).healthy).toBe(true);
  });

  it('starts a target in ALB\'s initial state out of rotation until healthyThreshold passes', () => {
    const initial = initialHealth('initial');
    expect(initial.healthy).toBe(false);
    expect(apply([true, true], initial).healthy).toBe(false);
    expect(apply([true, true, true], initial).healthy).toBe(true);
  });

  it('returns to healthy only after healthyThreshold consecutive passes', () => {
    const down = apply([false, false]);
    expect(apply([true, true], down).healthy).toBe(false);
    expect(apply([true, true, true], down).healthy).toBe(true);
    expect(apply([true, true, false, true, true], down).healthy).toBe(false);
  });
});
