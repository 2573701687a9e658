import { describe, expect, it } from 'vitest';
import { forgeLike } from './forge.js';
import { createRng } from './rng.js';

describe('forgeLike', () => {
  it('keeps the shape of an express-session cookie (prefix, separator, classes) but not its id or signature', () => {
    const real = 's%3AEYUCWinQJJK7KIKSux9ADlIgOs50cD1b.dBMFXVm44%2Fp4SNMQhEXhLapgftykGIzHk%2Bq6ThHBVRg';
    const forged = forgeLike(real, createRng(1));
    const decoded = decodeURIComponent(forged);
    expect(decoded).toMatch(/^s:[A-Za-z0-9]{32}\.[A-Za-z0-9]{9}\/[A-Za-z0-9]{23}\+[A-Za-z0-9]{9}$/);
    expect(decoded.slice(2, 34)).not.toBe('EYUCWinQJJK7KIKSux9ADlIgOs50cD1b');
    expect(forged.length).toBe(real.length);
  });

  it('keeps character classes position by position (a hex id stays hex-like)', () => {
    const forged = forgeLike('A1B2C3D4E5F6', createRng(2));
    expect(forged).toMatch(/^[A-Z]\d[A-Z]\d[A-Z]\d[A-Z]\d[A-Z]\d[A-Z]\d$/);
    expect(forged).not.toBe('A1B2C3D4E5F6');
  });
});
