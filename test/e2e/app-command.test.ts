import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { pollUntil } from '../../src/platform/time.js';
import { startHactl } from './helpers.js';
import { expectKillNode, expectLoginRead } from './oracle.js';

const APP_ENTRY = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));

/**
 * A user's command per replica, as --app-cmd gives it: here the demo app, started the way a user
 * would start theirs, under a shell that keeps a child of its own (so a kill must take the whole
 * process group), and told where its store is only through the templated fields.
 */
const COMMAND = `HACTL_SESSION_STORE=$([ -n "{redisUrl}" ] && echo redis || echo memory) HACTL_STORE_URL={redisUrl} "${process.execPath}" "${APP_ENTRY}" & wait`;

async function waitForNoLeftovers(hactl: ReturnType<typeof startHactl>): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 30; i++) {
    left = await hactl.leftovers();
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return left;
}

describe('hactl run --app-cmd', () => {
  it("holds the user's replicas to DESIGN.md's figures, and stops every process they started", async () => {
    const out = path.join(os.tmpdir(), `hactl-app-cmd-${process.pid}.json`);
    const hactl = startHactl(['run', '--app-cmd', COMMAND, '--strategy', 'none,sticky,redis', '--scenario', 'login-read,kill-node', '--users', '30', '--seed', '21', '--quiet', '--format', 'json', '--out', out]);
    const { code, stderr } = await hactl.finished;
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    await rm(out, { force: true });
    expect(report.settings.app).toEqual({ profile: 'demo', profileSource: 'built-in demo profile', command: COMMAND });
    for (const strategy of ['none', 'sticky', 'redis']) {
      expectLoginRead(report, strategy);
      expectKillNode(report, strategy);
    }
    // Each replica was a shell with the app as its child: both were seen, and neither is left.
    const seen = [...hactl.seen().values()];
    expect(seen.filter((name) => name === 'sh').length).toBeGreaterThanOrEqual(9);
    expect(await waitForNoLeftovers(hactl)).toEqual([]);
  }, 120_000);

  it('if hactl is SIGKILLed, the process groups of the user\'s replicas die with it', async () => {
    const hactl = startHactl(['run', '--app-cmd', COMMAND, '--strategy', 'none', '--scenario', 'login-read', '--users', '200', '--reads', '40']);
    await hactl.waitForStderr('none × login-read: starting cluster', 30_000);
    // Killed once every replica's app is up under its shell.
    await pollUntil(() => ([...hactl.seen().values()].filter((name) => name === 'node').length >= 3 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      onTimeout: () => new Error(`the replicas did not start: ${hactl.stderr()}`),
    });
    hactl.child.kill('SIGKILL');
    await hactl.finished;
    expect([...hactl.seen().values()]).toEqual(expect.arrayContaining(['sh', 'node']));
    expect(await waitForNoLeftovers(hactl)).toEqual([]);
    const runId = /hactl: run ([0-9a-f]+),/.exec((await hactl.finished).stderr)![1]!;
    for (const entry of await readdir(os.tmpdir())) {
      if (entry.startsWith(`hactl-${runId}-`)) await rm(path.join(os.tmpdir(), entry), { recursive: true, force: true });
    }
  }, 60_000);

  it('an app that will not start gives error rows with its own output, and exit 3', async () => {
    const hactl = startHactl(['run', '--app-cmd', 'echo "cannot open config.yml" >&2; exit 7', '--strategy', 'none', '--scenario', 'login-read', '--quiet', '--format', 'json']);
    const { code, stdout } = await hactl.finished;
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as Report;
    expect(report.results[0]).toMatchObject({ status: 'error', reason: expect.stringMatching(/replica-\d \(echo .*exited during start-up: cannot open config\.yml/) });
    expect(await waitForNoLeftovers(hactl)).toEqual([]);
  }, 60_000);
});
