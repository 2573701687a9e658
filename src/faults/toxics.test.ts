import { describe, expect, it } from 'vitest';
import { parseToxic } from './toxics.js';

describe('parseToxic', () => {
  it('takes each toxic as the scenario files write it', () => {
    for (const toxic of [
      { type: 'latency', latencyMs: 200, jitterMs: 50 },
      { type: 'latency', latencyMs: 0 },
      { type: 'timeout', timeoutMs: 0 },
      { type: 'reset_peer' },
      { type: 'reset_peer', timeoutMs: 100 },
      { type: 'down' },
    ]) {
      expect(parseToxic(toxic)).toEqual({ ok: true, toxic });
    }
  });

  it('refuses an unknown type, naming the known ones', () => {
    const parsed = parseToxic({ type: 'slicer' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain('latency, timeout, reset_peer, down');
  });

  it('refuses negative, fractional, unbounded and missing times, and unknown fields, in one line', () => {
    for (const toxic of [
      { type: 'latency', latencyMs: -1 },
      { type: 'latency', latencyMs: 1.5 },
      { type: 'latency' },
      { type: 'timeout', timeoutMs: 3_600_000 },
      { type: 'timeout' },
      { type: 'down', stream: 'upstream' },
      'latency',
      null,
    ]) {
      const parsed = parseToxic(toxic);
      expect(parsed.ok, JSON.stringify(toxic)).toBe(false);
      if (!parsed.ok) expect(parsed.reason).not.toContain('\n');
    }
  });

  it('names the field at fault', () => {
    const parsed = parseToxic({ type: 'latency', latencyMs: 100, jitterMs: 'lots' });
    expect(parsed).toMatchObject({ ok: false, reason: expect.stringContaining('jitterMs') });
  });
});
