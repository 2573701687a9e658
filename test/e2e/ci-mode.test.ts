import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { HACTL, runHactl, STACK_LINE, startHactl } from './helpers.js';

const DEMO_APP = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));

/**
 * CI mode as a CI job written from the README uses it: a config file with expectations, the exit
 * code, the JUnit file, and reports rendered again from the saved JSON.
 */
describe('CI mode', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-ci-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const config = async (name: string, expect: string, extra = '') => {
    const file = path.join(dir, name);
    await writeFile(
      file,
      [
        'strategy: [none, redis]',
        'scenario: [login-read]',
        'users: 20',
        'seed: 7',
        'format: json',
        `out: ${name}.json`,
        `junit: ${name}.junit.xml`,
        `html: ${name}.html`,
        extra,
        'expect:',
        expect,
      ].join('\n'),
    );
    return file;
  };
  const junit = async (file: string) =>
    new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase'].includes(name) }).parse(await readFile(file, 'utf8')).testsuites;

  it('fails with exit 1 when an expectation is broken, naming the figure in the log and in JUnit', async () => {
    const file = await config('broken.yaml', ["  none: { login-read: { hitRate: '>= 1' } }", "  redis: { login-read: { hitRate: '>= 1', read.p99: '< 5000' } }"].join('\n'));
    const { code, stderr, stdout } = await runHactl(['run', '--config', file]);
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/^hactl: expectations: 2 passed, 1 failed$/m);
    expect(stderr).toMatch(/^hactl: {3}FAIL none × login-read: hitRate was 0\.\d+, expected >= 1$/m);
    expect(stderr).not.toMatch(STACK_LINE);
    // Not a terminal: no colour and no live status line, in either stream.
    expect(stdout + stderr).not.toMatch(/\x1b\[/);

    const report = JSON.parse(await readFile(path.join(dir, 'broken.yaml.json'), 'utf8')) as Report;
    expect(report.settings.config).toBe(file);
    expect(report.expectations!.map((r) => [r.strategy, r.metric, r.status])).toEqual([
      ['none', 'hitRate', 'failed'],
      ['redis', 'hitRate', 'passed'],
      ['redis', 'read.p99', 'passed'],
    ]);
    const suites = await junit(path.join(dir, 'broken.yaml.junit.xml'));
    expect(suites).toMatchObject({ tests: '3', failures: '1', errors: '0' });
    const failed = suites.testsuite[0].testcase[0];
    expect(failed.name).toBe('login-read: hitRate >= 1');
    expect(failed.failure.message).toMatch(/^none × login-read: hitRate was 0\.\d+, expected >= 1$/);
  }, 90_000);

  it('exits 0 when every expectation holds; flags on the command line override the file', async () => {
    const file = await config('holds.yaml', ["  none: { login-read: { hitRate: '< 0.6', errors: '== 0' } }", "  redis: { login-read: { hitRate: '>= 1' } }"].join('\n'));
    const { code, stderr } = await runHactl(['run', '--config', file, '--users', '10', '--quiet']);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/^hactl: expectations: 3 passed$/m);
    const report = JSON.parse(await readFile(path.join(dir, 'holds.yaml.json'), 'utf8')) as Report;
    expect(report.settings.users).toBe(10);
  }, 90_000);

  it('a skipped row fails the run only with --strict', async () => {
    // kill-store needs a session store: skipped for none, which keeps sessions in memory.
    const args = ['run', '--strategy', 'none', '--scenario', 'login-read,kill-store', '--users', '10', '--quiet', '--format', 'json'];
    const loose = await runHactl(args);
    expect(loose.code, loose.stderr).toBe(0);
    const strict = await runHactl([...args, '--strict', '--junit', path.join(dir, 'strict.xml')]);
    expect(strict.code, strict.stderr).toBe(1);
    expect(strict.stderr).toMatch(/^hactl: --strict: 1 skipped row fails the run \(none × kill-store\)$/m);
    const suites = await junit(path.join(dir, 'strict.xml'));
    expect(suites.testsuite[0].testcase[1].failure.message).toMatch(/^none × kill-store: .*\(--strict: a skipped row fails the run\)$/);
  }, 90_000);

  it('hactl report renders the saved JSON again: the same bytes every time, and the same JUnit as the run wrote', async () => {
    const saved = path.join(dir, 'broken.yaml.json');
    const render = async (format: string) => {
      const { code, stdout, stderr } = await runHactl(['report', saved, '--format', format]);
      expect(code, stderr).toBe(0);
      return stdout;
    };
    for (const format of ['markdown', 'html', 'junit', 'table']) expect(await render(format)).toBe(await render(format));
    expect(await render('junit')).toBe(await readFile(path.join(dir, 'broken.yaml.junit.xml'), 'utf8'));
    expect(await render('html')).toBe(await readFile(path.join(dir, 'broken.yaml.html'), 'utf8'));
    expect(await render('json')).toBe(await readFile(saved, 'utf8'));
  }, 60_000);

  it.each([
    [['report', 'no-such.json'], /^hactl: cannot read report no-such\.json: ENOENT$/],
    [['report', 'package.json'], /^hactl: package\.json: schemaVersion undefined is not one this hactl reads; expected a hactl JSON report with schemaVersion 1$/],
    [['run', '--config', 'no-such.yaml'], /^hactl: --config: cannot read no-such\.yaml: ENOENT$/],
  ])('%j: one line, exit 2', async (args, message) => {
    const { code, stderr } = await runHactl(args);
    expect(code).toBe(2);
    expect(stderr.trim()).toMatch(message);
  });

  it('a config that does not validate: every problem on a line naming file and path, exit 2', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, "replicas: three\nexpect:\n  redis:\n    login-read: { hitrate: '>= 1' }\n");
    const { code, stderr } = await runHactl(['run', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^hactl: ${file}: replicas: `));
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it('a config with several mistakes: all of them at once, each with the name it meant, before anything starts', async () => {
    const file = path.join(dir, 'typos.yaml');
    await writeFile(file, ['strategy: [none, redis]', 'replica: 3', 'expect:', "  nnone: { login-raed: { hitrate: '>= 1' } }", '  redis: { login-read: { finding.logout: pass } }', ''].join('\n'));
    const hactl = startHactl(['run', '--config', file]);
    const { code, stderr, stdout } = await hactl.finished;
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      `hactl: ${file}: (top level): Unrecognized key: "replica" (did you mean replicas?)`,
      expect.stringMatching(new RegExp(`^hactl: ${file}: expect\\.nnone: unknown strategy "nnone" \\(did you mean none\\?\\); `)),
      expect.stringMatching(new RegExp(`^hactl: ${file}: expect\\.nnone\\.login-raed: unknown scenario "login-raed" \\(did you mean login-read\\?\\); expected one of .*, or \\*$`)),
      expect.stringMatching(new RegExp(`^hactl: ${file}: expect\\.nnone\\.login-raed\\.hitrate: unknown figure "hitrate" \\(did you mean hitRate\\?\\); `)),
      expect.stringMatching(new RegExp(`^hactl: ${file}: expect\\.redis\\.login-read\\.finding\\.logout: unknown finding "logout" \\(did you mean logout-invalidates\\?\\); expected finding\\.<id> with <id> one of .*logout-invalidates`)),
    ]);
    expect(await hactl.leftovers()).toEqual([]);
  });

  it("app-cmd in a config file runs in the file's folder, where its paths are read too, wherever hactl runs", async () => {
    const folder = await mkdtemp(path.join(dir, 'app-'));
    // A relative script name, as a repository's config would give it: found only from the config's folder.
    await writeFile(path.join(folder, 'start.sh'), `exec "${process.execPath}" "${DEMO_APP}"\n`);
    const file = path.join(folder, 'hactl.yaml');
    await writeFile(file, ['strategy: none', 'scenario: login-read', 'replicas: 2', 'users: 5', 'app-cmd: sh start.sh', 'format: json', 'out: app.json', 'expect:', "  none: { login-read: { errors: '== 0' } }", ''].join('\n'));
    const { code, stderr } = await runHactl(['run', '--config', file, '--quiet']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(await readFile(path.join(folder, 'app.json'), 'utf8')) as Report;
    expect(report.results.map((row) => row.status)).toEqual(['ok']);
    expect(report.settings.app).toMatchObject({ command: 'sh start.sh' });
  }, 60_000);

  it('a saved report that is not valid says where', async () => {
    const file = path.join(dir, 'tampered.json');
    const report = JSON.parse(await readFile(path.join(dir, 'broken.yaml.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...report, results: [{ strategy: 'none', scenario: 'x', status: 'fine' }] }));
    const { code, stderr } = await runHactl(['report', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: /results/0/status: must be equal to one of the allowed values`);
  });

  it('hactl init writes a starter config that runs, and will not overwrite it', async () => {
    const cwd = await mkdtemp(path.join(dir, 'init-'));
    const init = await promisify(execFile)(process.execPath, [HACTL, 'init'], { cwd });
    expect(init.stdout).toMatch(/wrote hactl\.config\.yaml/);
    const again = await runHactlIn(cwd, ['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^hactl: hactl\.config\.yaml exists already; keep it, or overwrite it with hactl init --force$/m);
    // Read from the working directory; narrowed on the command line to stay quick.
    const ran = await runHactlIn(cwd, ['run', '--strategy', 'none,redis', '--scenario', 'login-read', '--users', '10']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/^hactl: config hactl\.config\.yaml, \d+ expectations$/m);
    expect(ran.stderr).toMatch(/^hactl: expectations: 3 passed, \d+ not-run$/m);
    expect(await readFile(path.join(cwd, 'hactl-junit.xml'), 'utf8')).toContain('<testsuites');
  }, 90_000);
});

function runHactlIn(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HACTL, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
