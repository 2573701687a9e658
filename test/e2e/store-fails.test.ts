import { describe, expect, it } from 'vitest';
import { startHactl, STACK_LINE } from './helpers.js';

/** A store that is there but will not start: its rows say what failed, the rest runs, exit 3. */
describe('a store that will not start', () => {
  it('gives error rows naming what failed, still runs the other strategies, and exits 3', async () => {
    // An executable that exits at once stands in for a broken redis-server.
    const hactl = startHactl(['run', '--strategy', 'none,redis', '--scenario', 'login-read', '--format', 'json', '--quiet'], { HACTL_REDIS_SERVER: '/bin/false' });
    const { code, stdout, stderr } = await hactl.finished;
    expect(code, stderr).toBe(3);
    expect(stderr).not.toMatch(STACK_LINE);
    const report = JSON.parse(stdout) as { results: Array<{ strategy: string; status: string; reason?: string }> };
    expect(report.results.find((row) => row.strategy === 'none')!.status).toBe('ok');
    const redis = report.results.find((row) => row.strategy === 'redis')!;
    expect(redis.status).toBe('error');
    expect(redis.reason).toMatch(/^redis did not start: redis-server on 127\.0\.0\.1:\d+ exited during start-up/);
    expect(await hactl.leftovers()).toEqual([]);
  }, 60_000);
});
