import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHactl, STACK_LINE } from './helpers.js';

/**
 * `hactl check` prints each step as it happens; a store that does not start is a step too. It
 * used to fail the strategy with no line saying why ("0 of 1 strategies passed; failed: redis").
 */
describe('hactl check, a store that does not start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-check-store-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the failed start step with the store\'s own output, and exits 1', async () => {
    // A redis-server that cannot start, as a broken build or a wrong HACTL_REDIS_SERVER would be.
    const broken = path.join(dir, 'redis-server');
    await writeFile(broken, '#!/bin/sh\necho "cannot open the configuration: broken on purpose" >&2\nexit 1\n');
    await chmod(broken, 0o755);
    const { code, stdout, stderr } = await runHactl(['check', '--strategy', 'none,redis'], { HACTL_REDIS_SERVER: broken });
    expect(code, stderr).toBe(1);
    expect(stdout).toMatch(/^none\s+read\s+ok\s/m);
    expect(stdout).toMatch(/^redis\s+start\s+FAIL\s+redis did not start: .*exited during start-up: cannot open the configuration: broken on purpose$/m);
    expect(stderr).toContain('hactl check: 1 of 2 strategies passed; failed: redis');
    expect(stderr).not.toMatch(STACK_LINE);
  });
});
