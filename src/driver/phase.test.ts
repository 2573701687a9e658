import { createServer } from 'node:http';
import { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { Driver } from './driver.js';
import { phaseClient } from './phase.js';
import { createRng } from './rng.js';
import { killReplica } from './phases/kill-replica.js';
import { read } from './phases/read.js';
import { phaseUnits } from './phases/index.js';

describe('a phase unit binds itself to its own options', () => {
  it('parses options once, at load, and hands them to its own hooks', () => {
    const bound = read.bind('after', { reads: 6 });
    if (!bound.success) throw new Error('expected valid read options');
    expect(bound.phase.name).toBe('after');
    expect(bound.phase.unit.kind).toBe('read');
    expect(bound.phase.readsPerUser({ replicas: 3, users: 10, reads: 4 })).toBe(6);
    expect(bound.phase.balancerWait()).toBeUndefined();
    expect(phaseUnits['read']!.bind('wait', { until: 'fault-detected', timeoutMs: 20_000 })).toMatchObject({ success: true });
  });

  it('refuses options that are not its own, naming the field', () => {
    const bound = phaseUnits['read']!.bind('after', { replica: 2 });
    expect(bound.success).toBe(false);
    expect(bound.success ? [] : bound.issues.map((issue) => issue.message)).toEqual([expect.stringMatching(/replica/)]);
  });

  it("types a unit's run by its own options (checked by tsc, not at run time)", () => {
    const kill = killReplica.options.parse({});
    // @ts-expect-error: a read phase's run does not take kill-replica's options.
    const wrong: Parameters<typeof read.run>[1] = kill;
    expect(wrong).toEqual({ replica: 1, signal: 'SIGKILL' });
  });
});

describe('the phase client', () => {
  it("records what a phase sends as that phase's samples, and forks the phase's generator by its name", async () => {
    const server = createServer((_, response) => response.writeHead(200, { 'x-hactl-replica': 'replica-1' }).end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const run = new AbortController();
    const driver = new Driver(`http://127.0.0.1:${port}`, { scenario: 's', concurrency: 1, requestTimeoutMs: 2_000, signal: run.signal });
    try {
      const scope = {
        scenario: 's',
        users: [],
        driver,
        cluster: {} as never,
        profile: { read: { method: 'GET', path: '/session', headers: {} }, isHit: (status: number) => status === 200 } as never,
        counts: { replicas: 1, users: 1, reads: 1 },
        concurrency: 1,
        rng: createRng(7),
        records: { faults: [], findings: [], counters: [], logins: [], failovers: [], replicaReads: [] },
        balancer: { healthCheck: {} as never, deregistrationDelayMs: 0 },
        signal: run.signal,
      };
      const client = phaseClient(scope, { name: 'before', kind: 'read' });
      await client.read(3, new CookieJar(), {} as never);
      await client.send(new CookieJar(), { method: 'GET', path: '/counter', headers: {} }, 4, () => 'ok', { as: { phase: 'before:read-back', kind: 'read-back' } });
      expect(client.samples.map((sample) => [sample.phase, sample.kind, sample.user, sample.outcome, sample.replica])).toEqual([
        ['before', 'read', 3, 'hit', 'replica-1'],
        ['before:read-back', 'read-back', 4, 'ok', 'replica-1'],
      ]);
      expect(client.origin).toBe(`http://127.0.0.1:${port}`);
      expect(client.rng.next()).toBe(createRng(7).fork('s:before').next());
    } finally {
      await driver.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
