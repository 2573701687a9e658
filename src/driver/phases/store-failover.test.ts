import { describe, expect, it } from 'vitest';
import type { WriteRecord } from '../records.js';
import { deathMoment } from './store-failover.js';

const write = (at: number, end: number, status = 200): WriteRecord => ({ user: 0, at, end, status });

describe('when the killed primary died', () => {
  it('is the last acknowledgement between the signal and the kill\'s return: only the old primary can have given it', () => {
    // Signalled at 1000, the engine said "stopped" at 1600: the primary answered until 1040.
    expect(deathMoment([write(900, 1010), write(990, 1040), write(1030, 1650), write(1045, 1500, 500)], 1000, 1600)).toBe(1040);
  });

  it('is the signal when nothing was acknowledged meanwhile', () => {
    expect(deathMoment([write(900, 990), write(995, 1700)], 1000, 1600)).toBe(1000);
  });
});
