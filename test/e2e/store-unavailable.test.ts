import { describe, expect, it } from 'vitest';
import { runHactl } from './helpers.js';

/** A store that cannot be had skips its rows with the reason and the fix; the rest still runs. */
describe('a store that is not installed', () => {
  it('skips redis rows with how to install it, runs none, and exits 0', async () => {
    const { code, stdout, stderr } = await runHactl(
      ['run', '--strategy', 'none,redis', '--scenario', 'login-read', '--format', 'json', '--quiet'],
      { HACTL_REDIS_SERVER: '/nonexistent/redis-server' },
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { results: Array<{ strategy: string; status: string; reason?: string; fix?: string; metrics?: { hitRate: number } }> };
    const none = report.results.find((row) => row.strategy === 'none')!;
    const redis = report.results.find((row) => row.strategy === 'redis')!;
    expect(none.status).toBe('ok');
    expect(none.metrics!.hitRate).toBeGreaterThan(0);
    expect(redis).toMatchObject({ status: 'skipped', reason: 'HACTL_REDIS_SERVER=/nonexistent/redis-server is not an executable file' });
    expect(redis.fix).toContain('apt-get install -y redis-server');
    expect(redis.metrics).toBeUndefined();
  }, 60_000);

  it('says so under the terminal table too', async () => {
    const { code, stdout } = await runHactl(['run', '--strategy', 'redis', '--scenario', 'login-read', '--quiet'], { HACTL_REDIS_SERVER: '/nonexistent/redis-server' });
    expect(code).toBe(0);
    expect(stdout).toMatch(/│ redis\s+│ login-read\s+│ skipped/);
    expect(stdout).toContain('redis: skipped: HACTL_REDIS_SERVER=/nonexistent/redis-server is not an executable file (fix: install it (Debian/Ubuntu: apt-get install -y redis-server');
  }, 60_000);
});
