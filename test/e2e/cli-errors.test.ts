import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HACTL, runHactl, startHactl, STACK_LINE } from './helpers.js';

/** Bad input: one clear line on stderr, exit code 2, no stack trace, nothing started. */
describe('bad input', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-scenario-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function expectUsageError(args: string[], message: string | RegExp) {
    const hactl = startHactl(args);
    const { code, stderr, stdout } = await hactl.finished;
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stdout).toBe('');
    expect(await hactl.leftovers()).toEqual([]);
  }

  it('unknown strategy: lists the valid ones', () =>
    expectUsageError(['run', '--strategy', 'redis,memcached'], 'hactl: --strategy: unknown strategy "memcached"; expected one or more of none, sticky, redis, postgres, mongo, or all'));

  it('unknown scenario: lists the valid ones', () =>
    expectUsageError(['run', '--scenario', 'login-read,kill-all'], /^hactl: unknown scenario "kill-all"; expected one of .*cookie-swap.*kill-node.*login-read/));

  it('a mistyped strategy or scenario: the name it meant', async () => {
    await expectUsageError(['run', '--strategy', 'nnone'], /^hactl: --strategy: unknown strategy "nnone" \(did you mean none\?\); /);
    await expectUsageError(['run', '--scenario', 'login-raed'], /^hactl: unknown scenario "login-raed" \(did you mean login-read\?\); /);
  });

  it.each([
    ['--replicas', 'abc'],
    ['--replicas', '0'],
    ['--users', '0'],
    ['--users', 'many'],
    ['--reads', '1.5'],
  ])('%s %s: says what it expects', (flag, value) => expectUsageError(['run', flag, value], new RegExp(`^hactl: ${flag}: expected a whole number from \\d+ to \\d+, got "${value.replace('.', '\\.')}"`)));

  it('--out into a directory that does not exist', () =>
    expectUsageError(['run', '--out', '/nonexistent-hactl-dir/r.json'], 'hactl: --out: directory /nonexistent-hactl-dir does not exist'));

  it('--out naming a directory', () => expectUsageError(['run', '--out', os.tmpdir()], `hactl: --out: ${os.tmpdir()} is a directory; expected a file path`));

  it('--format that does not exist (commander lists the choices)', () => expectUsageError(['run', '--format', 'xml'], /^hactl: option '-f, --format <format>' argument 'xml' is invalid\. Allowed choices are table, json, markdown, junit, html\.$/m));

  it('an unknown flag', () => expectUsageError(['run', '--replica', '3'], /^hactl: unknown option '--replica' \(Did you mean --replicas\?\)$/m));

  it('a scenario file that does not validate: file, field and what was expected', async () => {
    const file = path.join(dir, 'broken.yaml');
    await writeFile(file, 'name: broken\ndescription: reads too few times\nphases:\n  - name: login\n    do: login\n  - name: read\n    do: read\n    reads: lots\n');
    await expectUsageError(['run', '--strategy', 'none', '--scenario', file], `hactl: ${file}: phases[1].reads: unknown name "lots" in "lots"; a count may use reads, replicas, users, integers, + - *, max() and min()`);
  });

  it('a scenario file that is not YAML', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'name: [unclosed\n');
    await expectUsageError(['run', '--scenario', file], new RegExp(`^hactl: ${file}: not valid YAML: `));
  });

  it('--help explains every option and the exit codes, and exits 0', async () => {
    const { code, stdout } = await runHactl(['run', '--help']);
    expect(code).toBe(0);
    for (const option of ['--strategy', '--scenario', '--replicas', '--users', '--reads', '--runtime', '--format', '--out', '--seed']) expect(stdout).toContain(option);
    const top = await runHactl(['--help']);
    expect(top.stdout).toContain('Exit codes:');
  });

  it('a reader that went away (`hactl run --help | head`) is no error: exit 0, no EPIPE stack trace', async () => {
    // The read end closed before hactl writes a byte: every write of the help meets EPIPE, every time.
    const child = spawn(process.execPath, [HACTL, 'run', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
