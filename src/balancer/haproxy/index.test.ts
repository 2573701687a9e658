import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../platform/errors.js';
import { ProcessSupervisor } from '../../platform/processes.js';
import { FAST_CONNECT_TIMEOUT_MS, FAST_HEALTH_CHECK, type BalancerSettings } from '../settings.js';
import { haproxyAvailability, startHaproxyBalancer } from './index.js';

const settings: BalancerSettings = {
  host: '127.0.0.1',
  port: 0,
  targets: [{ id: 'replica-1', host: '127.0.0.1', port: 9001 }],
  algorithm: 'round_robin',
  stickiness: { type: 'off' },
  healthCheck: FAST_HEALTH_CHECK,
  upstreamTimeoutMs: 30_000,
  connectTimeoutMs: FAST_CONNECT_TIMEOUT_MS,
  deregistrationDelayMs: 5_000,
};

describe('haproxy availability', () => {
  it('says how to install haproxy when it is not on PATH', async () => {
    expect(await haproxyAvailability({ PATH: '/nonexistent' })).toEqual({
      available: false,
      reason: 'haproxy was not found on PATH',
      fix: expect.stringContaining('apt-get install -y haproxy'),
    });
  });

  it('names HACTL_HAPROXY when it points at nothing executable', async () => {
    const availability = await haproxyAvailability({ HACTL_HAPROXY: '/nonexistent/haproxy', PATH: '/usr/sbin' });
    expect(availability).toMatchObject({ available: false, reason: 'HACTL_HAPROXY=/nonexistent/haproxy is not an executable file' });
  });

  it('refuses to start without haproxy, in one line that says how to install it', async () => {
    const start = startHaproxyBalancer(settings, { supervisor: new ProcessSupervisor(), runDir: os.tmpdir(), env: { PATH: '/nonexistent' } });
    await expect(start).rejects.toBeInstanceOf(EnvironmentError);
    await expect(start).rejects.toThrow(/^--balancer haproxy: haproxy was not found on PATH; install it \(Debian\/Ubuntu: apt-get install -y haproxy[^\n]*$/);
  });
});
