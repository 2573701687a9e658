import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/driver/records.js';
import type { Report } from '../../src/report/model.js';
import { startHactl, type Finished, type Started } from './helpers.js';
import { row } from './oracle.js';
import { FINDINGS } from './security-matrix.js';

/**
 * The security scenario through the real CLI, against real redis-server and PostgreSQL: the
 * demo app passes every check (bar Secure, which plain HTTP cannot show, and logout on `none`,
 * see below), and the weak fixture, which keeps the pre-login session at login, fails fixation.
 */
const REPLICAS = 3;
const USERS = 10;
/** Findings whose evidence says which replicas the replays reached. */
const REPLAYED = ['session-fixation', 'logout-invalidates', 'idle-timeout'];
const COOKIE = ['cookie-httponly', 'cookie-samesite', 'cookie-path', 'cookie-no-domain'];

async function runToReport(args: string[]): Promise<{ finished: Finished; report: Report; hactl: Started }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-e2e-'));
  try {
    const out = path.join(dir, 'r.json');
    const common = ['--replicas', String(REPLICAS), '--users', String(USERS), '--seed', '7', '--format', 'json', '--out', out];
    const hactl = startHactl(['run', ...args, ...common], {}, 200_000);
    const finished = await hactl.finished;
    expect(finished.code, finished.stderr).toBe(0);
    return { finished, report: JSON.parse(await readFile(out, 'utf8')) as Report, hactl };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function idleTimeoutOf(file: string): Promise<number> {
  const data = parseYaml(await readFile(new URL(`../../${file}`, import.meta.url), 'utf8')) as { app: { sessionTtlSeconds: number } };
  return data.app.sessionTtlSeconds;
}

function findingsOf(report: Report, strategy: string, scenario: string): Map<string, Finding> {
  const found = row(report, strategy, scenario).findings ?? [];
  expect(found.map((f) => f.id).sort()).toEqual([...FINDINGS].sort());
  return new Map(found.map((f) => [f.id, f]));
}

/** The replicas that answered anything in this row: the ones every replay had to reach. */
function replicasOf(report: Report, strategy: string, scenario: string): string[] {
  const replicas = Object.keys(row(report, strategy, scenario).metrics!.requestsPerReplica).sort();
  expect(replicas).toHaveLength(REPLICAS);
  return replicas;
}

/** What every strategy must show, whichever way the app regenerates ids at login. */
async function expectCommonChecks(report: Report, strategy: string, scenario: string, ttlSeconds: number): Promise<void> {
  const findings = findingsOf(report, strategy, scenario);
  const replicas = replicasOf(report, strategy, scenario);
  const get = (id: string) => findings.get(id)!;

  expect(get('forged-id-read').passed, get('forged-id-read').summary).toBe(true);
  expect(get('forged-id-adopted').passed, get('forged-id-adopted').summary).toBe(true);
  // Forged in the issued ids' own shape, so the pass means the app checks ids, not their shape.
  expect(get('forged-id-adopted').evidence).toMatchObject({ forgedIdsOfIssuedShape: USERS, forgedShape: get('forged-id-adopted').evidence.issuedShape });

  for (const id of COOKIE) {
    expect(get(id).passed, `${strategy} ${id}: ${get(id).summary}`).toBe(true);
    expect(get(id).evidence.failing).toBe(0);
    // Every replica sent the session cookie and each of its Set-Cookies was judged.
    for (const replica of replicas) expect(get(id).evidence.byReplica).toMatch(new RegExp(`${replica} (\\d+)/\\1`));
  }
  // Over plain HTTP Secure is not applicable, and the finding says why instead of passing.
  expect(get('cookie-secure')).toMatchObject({ passed: null, summary: expect.stringContaining('not checked: served over plain HTTP') });

  const quality = get('session-id-quality');
  expect(quality.passed, quality.summary).toBe(true);
  expect(quality.evidence.ids).toBeGreaterThanOrEqual(1000);
  expect(quality.evidence.entropyBits).toBeGreaterThanOrEqual(64);
  expect(quality.evidence.duplicates).toBe(0);

  const idle = get('idle-timeout');
  expect(idle.passed, idle.summary).toBe(true);
  expect(idle.evidence.idleTimeoutSeconds).toBe(ttlSeconds);
  // Served just before the timeout, by a replica that holds it: the after-check means something.
  expect(idle.evidence.servedBeforeTimeout).toBe(USERS);
  expect(idle.evidence.idleBeforeMs).toBeLessThan(ttlSeconds * 1000);
  expect(idle.evidence.idleAfterMs).toBeGreaterThan(ttlSeconds * 1000);
  expect(idle.evidence.replaysShowingData).toBe(0);

  for (const id of REPLAYED) {
    // Replays sent the session cookie alone, so round robin reached every replica.
    expect(get(id).evidence.replicasAnswered, `${strategy} ${id}`).toBe(replicas.join(', '));
    expect(get(id).evidence.replayReads).toBeGreaterThanOrEqual(2 * REPLICAS * USERS);
  }
}

/**
 * The file's three runs, started at once: the checks judge answers, not latencies, and most of a
 * row is the idle-timeout check waiting (its margins, 2 s either side of a 4 s timeout, dwarf a
 * request's time under this load). Each test awaits its own run.
 */
const RUNS = {
  'none,sticky': ['--strategy', 'none,sticky', '--scenario', 'security'],
  'redis,postgres': ['--strategy', 'redis,postgres', '--scenario', 'security'],
  weak: ['--strategy', 'redis', '--scenario', 'fixtures/scenarios/security-weak.yaml'],
} as const;
const runs = new Map<keyof typeof RUNS, Promise<{ finished: Finished; report: Report; hactl: Started }>>();
beforeAll(() => {
  for (const [name, args] of Object.entries(RUNS) as [keyof typeof RUNS, readonly string[]][]) {
    const run = runToReport([...args]);
    // Handled here so that a run failing before its test awaits it is that test's failure, not an unhandled rejection.
    run.catch(() => undefined);
    runs.set(name, run);
  }
});

describe('security: the default demo app', () => {
  // Two strategies per run, to keep each invocation well under a minute on two cores.
  it.each([['none,sticky'], ['redis,postgres']] as const)('%s: every check passes, logout on none excepted', async (strategies) => {
    const { report, hactl } = await runs.get(strategies)!;
    const ttl = await idleTimeoutOf('scenarios/security.yaml');
    for (const strategy of strategies.split(',')) {
      await expectCommonChecks(report, strategy, 'security', ttl);
      const findings = findingsOf(report, strategy, 'security');
      const fixation = findings.get('session-fixation')!;
      expect(fixation.passed, fixation.summary).toBe(true);
      // Every victim's login reached a replica holding the planted session (the stickiness cookie
      // planted too, or sent again until round robin got there): the pass is a real one.
      expect(fixation.evidence).toMatchObject({ attempts: USERS, idUnchangedAtLogin: 0, replaysShowingData: 0, loginsJudged: USERS, neverReachedHolder: 0 });
      if (strategy === 'sticky') expect(fixation.evidence.loginsElsewhere).toBe(0);

      const logout = findings.get('logout-invalidates')!;
      if (strategy === 'none') {
        // Each replica keeps its own sessions: a logout served by another replica destroys
        // nothing there, and the replica holding the session keeps serving the old cookie.
        expect(logout.passed, logout.summary).toBe(false);
        expect(logout.evidence.replaysShowingData).toBeGreaterThan(0);
        expect(logout.evidence.replicasShowingData).toMatch(/replica-/);
        // ...and says so: the app destroyed every session whose logout reached it.
        expect(logout.evidence.keptByLoggingOutReplica, logout.summary).toBe(0);
        expect(logout.evidence.loggedOutElsewhere).toBeGreaterThan(0);
        expect(logout.summary).toMatch(/logged out on replica-\d, served by replica-\d/);
        expect(logout.summary).not.toContain('the app does not end the session');
      } else {
        expect(logout.passed, logout.summary).toBe(true);
        expect(logout.evidence).toMatchObject({ attempts: USERS, failedLogouts: 0, replaysShowingData: 0 });
      }
    }
    expect(await hactl.leftovers()).toEqual([]);
  }, 240_000);
});

describe('security: a demo app that keeps the pre-login session at login', () => {
  it('fails fixation on redis, and passes every other check', async () => {
    const { report, hactl } = await runs.get('weak')!;
    const ttl = await idleTimeoutOf('fixtures/scenarios/security-weak.yaml');
    await expectCommonChecks(report, 'redis', 'security-weak', ttl);
    const findings = findingsOf(report, 'redis', 'security-weak');
    const fixation = findings.get('session-fixation')!;
    expect(fixation.passed, fixation.summary).toBe(false);
    // The shared store keeps the planted session: the id never changes, and it reads the victim everywhere.
    expect(fixation.evidence.idUnchangedAtLogin).toBe(USERS);
    expect(fixation.evidence.replaysShowingData).toBe(fixation.evidence.replayReads);
    expect(findings.get('logout-invalidates')!.passed).toBe(true);
    expect(await hactl.leftovers()).toEqual([]);
  }, 240_000);
});
