import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../dist/driver/rng.js';
import { makeUsers } from '../../dist/driver/users.js';
import type { Report, ResultRow } from '../../src/report/model.js';
import { runHactl } from './helpers.js';

/**
 * Issue 14, item 5: an app profile's `replica:` source names the replica of every answer, in
 * place of hactl's balancer's tag. fixtures/apps/pyapp answers with `X-Served-By: edge-proxy,
 * replica-N` (a list, as a proxy chain writes it); fixtures/apps/pyapp-replica.yaml takes its
 * last hop's number and maps it to web-N. With PYAPP_LOG set, each replica writes down every
 * request it served, so that the report's requests per replica are held to what the replicas
 * counted themselves, not to anything of hactl's.
 */
const PROFILE = 'fixtures/apps/pyapp-replica.yaml';
const APP = 'python3 fixtures/apps/pyapp/server.py {port}';
const SEED = 21;
const USERS = 30;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-replica-identity-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function run(name: string, args: string[]): Promise<{ code: number | null; stderr: string; row: ResultRow; log: string }> {
  const out = path.join(dir, `${name}.json`);
  const log = path.join(dir, `${name}.log`);
  const { code, stderr } = await runHactl(
    ['run', '--app-cmd', APP, '--users', String(USERS), '--seed', String(SEED), '--no-preflight', '--quiet', '--format', 'json', '--out', out, ...args],
    { PATH: `${process.env.PATH}:/usr/sbin`, PYAPP_LOG: log },
  );
  const report = JSON.parse(await readFile(out, 'utf8')) as Report;
  expect(report.results, stderr).toHaveLength(1);
  return { code, stderr, row: report.results[0]!, log: await readFile(log, 'utf8') };
}

/**
 * What each replica counted of the scenario's own users' requests, by the report's name for it.
 * The log also holds the warm-up's throwaway users, whose requests are in no sample: a read is
 * the scenario's when its cookie is one a login of a scenario user was given.
 */
function countedByReplicas(log: string, scenario: string): Record<string, number> {
  const users = new Set(makeUsers(USERS, createRng(SEED).fork(`users:${scenario}`)).map((user) => user.identity.userId));
  const lines = log.trim().split('\n').map((line) => line.split(' ') as [string, string, string, string]);
  const sessionsOfUsers = new Set(lines.filter(([, kind, , user]) => kind === 'login' && users.has(user)).map(([, , sid]) => sid));
  const counts: Record<string, number> = {};
  for (const [replica, kind, sid] of lines) {
    if (kind === 'other' || !sessionsOfUsers.has(sid)) continue;
    const name = `web-${replica.replace(/^replica-/, '')}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe("an app profile's replica: source names the replicas (local runtime, --app-cmd)", () => {
  for (const balancer of ['hactl', 'haproxy']) {
    it(`login-read behind ${balancer}: requests per replica are what each replica counted, imbalance near 1`, async () => {
      const { code, stderr, row, log } = await run(`login-read-${balancer}`, ['--app-profile', PROFILE, '--balancer', balancer, '--strategy', 'none', '--scenario', 'login-read']);
      expect(code, stderr).toBe(0);
      expect(row.status, stderr).toBe('ok');
      const metrics = row.metrics!;
      expect(metrics.replicasKnown).toBe(true);
      expect(Object.keys(metrics.requestsPerReplica)).toEqual(['web-1', 'web-2', 'web-3']);
      // Every request was answered by a replica, and every answer named it.
      expect(metrics.errors).toBe(0);
      expect(Object.values(metrics.requestsPerReplica).reduce((sum, count) => sum + count, 0)).toBe(metrics.requests);
      expect(metrics.requestsPerReplica).toEqual(countedByReplicas(log, 'login-read'));
      expect(metrics.imbalance).toBeGreaterThanOrEqual(1);
      expect(metrics.imbalance).toBeLessThan(1.1);
      for (const phase of metrics.phases) {
        expect(Object.keys(phase.byReplica)).toEqual(['web-1', 'web-2', 'web-3']);
        const perReplica = Object.values(phase.byReplica).reduce((sum, counts) => sum + counts.hits + counts.misses + counts.errors, 0);
        expect(perReplica).toBe(phase.kind === 'read' ? phase.requests : 0);
      }
      expect(row.warnings?.find((warning) => warning.id === 'replicas-seen')).toBeUndefined();
    }, 120_000);
  }

  it('kill-node: the row sees every replica (the killed one answered before its kill), so no replicas-seen warning', async () => {
    const { code, stderr, row, log } = await run('kill-node', ['--app-profile', PROFILE, '--strategy', 'sticky', '--scenario', 'kill-node']);
    expect(code, stderr).toBe(0);
    expect(row.status, stderr).toBe('ok');
    expect(Object.keys(row.metrics!.requestsPerReplica)).toEqual(['web-1', 'web-2', 'web-3']);
    // Requests that failed on the killed replica (web-1) got no answer naming one; the survivors'
    // are exactly what they counted. web-1 may have written down a request or two that SIGKILL
    // cut off before it answered: at most one per request in flight (--concurrency 10).
    const counted = countedByReplicas(log, 'kill-node');
    const reported = row.metrics!.requestsPerReplica;
    expect(reported['web-2']).toBe(counted['web-2']);
    expect(reported['web-3']).toBe(counted['web-3']);
    expect(counted['web-1']! - reported['web-1']!).toBeGreaterThanOrEqual(0);
    expect(counted['web-1']! - reported['web-1']!).toBeLessThanOrEqual(10);
    expect(row.warnings?.find((warning) => warning.id === 'replicas-seen'), JSON.stringify(row.warnings)).toBeUndefined();
  }, 120_000);

  it('warns, not invalidates, when the names seen are fewer than --replicas, naming both numbers and the replicas seen', async () => {
    // Two replicas under one name: what a source that names something coarser than a replica gives.
    const profile = parseYaml(await readFile(PROFILE, 'utf8')) as { replica: { names: Record<string, string> } };
    profile.replica.names = { '1': 'web-1', '2': 'web-1', '3': 'web-3' };
    const file = path.join(dir, 'coarse.yaml');
    await writeFile(file, toYaml(profile));
    const { code, stderr, row } = await run('coarse', ['--app-profile', file, '--strategy', 'none', '--scenario', 'login-read']);
    expect(code, stderr).toBe(0);
    expect(row.status).toBe('ok');
    const warning = row.warnings?.find((one) => one.id === 'replicas-seen');
    expect(warning, JSON.stringify(row.warnings)).toBeDefined();
    expect(warning!.invalid).toBeUndefined();
    const { 'web-1': one, 'web-3': three } = row.metrics!.requestsPerReplica;
    expect(warning!.message).toBe(
      `answers named 2 distinct replicas (requests: web-1 ${one}, web-3 ${three}) where --replicas says 3: ` +
        "a replica answered none of the row's requests (the balancer never routed to it), two replicas share one name, or --replicas is wrong; " +
        'imbalance and per-replica figures count the 2 seen',
    );
    // Counted over the two names seen, not the cluster's three ids: web-1 has about twice web-3's share.
    expect(row.metrics!.imbalance).toBeCloseTo(one! / ((one! + three!) / 2), 2);
  }, 120_000);
});
