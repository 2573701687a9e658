import { describe, expect, it } from 'vitest';
import { initialHealth, matchesStatus, recordCheck, validateMatcher, type TargetHealth } from './health.js';

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

describe('health check matcher (ALB success codes: 200, 200,302, 200-299)', () => {
  it("passes only on exactly 200 with ALB's default matcher", () => {
    expect(matchesStatus(200, '200')).toBe(true);
    expect(matchesStatus(204, '200')).toBe(false);
    expect(matchesStatus(302, '200')).toBe(false);
  });

  it('passes on any listed code', () => {
    expect(matchesStatus(302, '200,302')).toBe(true);
    expect(matchesStatus(301, '200,302')).toBe(false);
  });

  it('passes on any code within a range, bounds included', () => {
    expect(matchesStatus(200, '200-299')).toBe(true);
    expect(matchesStatus(204, '200-299')).toBe(true);
    expect(matchesStatus(299, '200-299')).toBe(true);
    expect(matchesStatus(300, '200-299')).toBe(false);
  });

  it('accepts ranges inside a list and spaces around the parts', () => {
    expect(matchesStatus(404, '200, 400-404')).toBe(true);
    expect(validateMatcher('200, 400-404')).toBeUndefined();
  });

  it('rejects what ALB rejects, with one line each: other syntax, codes outside 200-499, reversed ranges', () => {
    for (const matcher of ['', 'ok', '2xx', '200-', '200;302', '199', '200-500', '500', '299-200']) {
      const problem = validateMatcher(matcher);
      expect(problem, matcher).toBeDefined();
      expect(problem).not.toContain('\n');
    }
  });

  it('matches nothing with an invalid matcher, so a bad setting fails checks rather than passing them', () => {
    expect(matchesStatus(200, '2xx')).toBe(false);
  });
});

describe('registration (ALB initial state)', () => {
  it('puts a re-registered target back out of rotation until healthyThreshold checks pass, whatever it was before', () => {
    const reRegistered = initialHealth('initial');
    expect(reRegistered).toEqual({ healthy: false, consecutivePasses: 0, consecutiveFailures: 0 });
    expect(apply([true, true], reRegistered).healthy).toBe(false);
    expect(apply([true, true, true], reRegistered).healthy).toBe(true);
  });

  it('keeps an initial target out while checks fail, and needs consecutive passes after a failure', () => {
    expect(apply([true, true, false, true, true], initialHealth('initial')).healthy).toBe(false);
  });
});
