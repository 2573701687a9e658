import { describe, expect, it } from 'vitest';
import { parseServerStats, serverState } from './admin.js';
import { isHealthy } from './index.js';

// Abridged from HAProxy 2.6's `show stat`: the columns hactl reads, in HAProxy's order.
const CSV = [
  '# pxname,svname,qcur,qmax,scur,smax,status,weight,type,check_status,check_desc',
  'hactl,FRONTEND,,,0,3,OPEN,,0,,',
  'targets,replica-1,0,0,2,3,UP 1/2,1,2,L7OK,Layer7 check passed',
  'targets,replica-2,1,1,0,1,DOWN,1,2,* L4CON,"Connection refused, twice"',
  'targets,replica-3,0,0,0,1,MAINT,1,2,,',
  'targets,BACKEND,0,0,2,3,UP,2,1,,',
  'other,replica-1,0,0,9,9,UP,1,2,L7OK,',
  '',
].join('\n');

describe('show stat parsing', () => {
  it("reads the backend's server rows, leaving frontends, backends and other proxies out", () => {
    expect(parseServerStats(CSV, 'targets')).toEqual([
      { backend: 'targets', server: 'replica-1', state: 'UP', status: 'UP 1/2', current: 2, queued: 0, checkStatus: 'L7OK' },
      { backend: 'targets', server: 'replica-2', state: 'DOWN', status: 'DOWN', current: 0, queued: 1, checkStatus: 'L4CON' },
      { backend: 'targets', server: 'replica-3', state: 'MAINT', status: 'MAINT', current: 0, queued: 0, checkStatus: '' },
    ]);
  });

  it('fails in one line on an answer that is not show stat CSV', () => {
    expect(() => parseServerStats('Unknown command.\n', 'targets')).toThrow(/without a CSV header: Unknown command\./);
  });

  it.each([
    ['UP', 'UP'],
    ['UP 1/2', 'UP'],
    ['DOWN 1/2', 'DOWN'],
    ['MAINT (via targets/replica-1)', 'MAINT'],
    ['MAINT (resolution)', 'MAINT'],
    ['DRAIN (agent)', 'DRAIN'],
    ['NOLB', 'NOLB'],
    ['no check', 'NO CHECK'],
    ['???', 'UNKNOWN'],
  ] as const)('reads status %s as %s', (status, state) => {
    expect(serverState(status)).toBe(state);
  });

  it('counts a server healthy while its checks pass, whether or not it takes new clients', () => {
    expect(['UP', 'NOLB', 'DRAIN', 'NO CHECK'].every((state) => isHealthy({ state: state as never }))).toBe(true);
    expect(['DOWN', 'MAINT', 'UNKNOWN'].some((state) => isHealthy({ state: state as never }))).toBe(false);
  });
});
