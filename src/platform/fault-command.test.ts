import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from './errors.js';
import { execCommand, FaultCommandError, runFaultCommand } from './fault-command.js';

describe('fault commands', () => {
  it('run in the folder they are given (a config file\'s), else in the working directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-fault-cmd-'));
    try {
      await writeFile(path.join(dir, 'kill.sh'), 'exit 0\n');
      await expect(runFaultCommand('--kill-store-cmd', 'sh kill.sh', { env: process.env, cwd: dir })).resolves.toMatchObject({ exit: 'exit 0', ok: true });
      await expect(runFaultCommand('--kill-store-cmd', 'sh kill.sh', { env: process.env })).rejects.toThrow(EnvironmentError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('say how they ended, with the end of their output, and fail a fault command that did not exit 0', async () => {
    const run = await execCommand('--verify-cmd', 'echo checking; echo nope >&2; exit 3', { env: process.env });
    expect(run).toMatchObject({ flag: '--verify-cmd', command: 'echo checking; echo nope >&2; exit 3', exit: 'exit 3', output: 'checking\nnope', ok: false });
    expect(run.endAt).toBeGreaterThanOrEqual(run.startAt);
    const failed = runFaultCommand('--kill-replica-cmd', 'exit 4', { env: process.env });
    await expect(failed).rejects.toThrow(/--kill-replica-cmd: "exit 4" failed \(exit 4\)/);
    await expect(failed).rejects.toBeInstanceOf(FaultCommandError);
    const slow = await execCommand('--kill-store-cmd', 'sleep 5', { env: process.env, timeoutMs: 300 });
    expect(slow).toMatchObject({ exit: 'timeout', ok: false });
    expect(slow.endAt - slow.startAt).toBeLessThan(3_000);
  });

  it('tell, while they run long, how long they have run and may run', async () => {
    const lines: string[] = [];
    await runFaultCommand('--kill-replica-cmd', 'sleep 1.3', { env: process.env, timeoutMs: 10_000, progressEveryMs: 500, onProgress: (line) => lines.push(line) });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^--kill-replica-cmd still running \(\d+ s of 10 s\): sleep 1\.3$/);
  });

  it('kill the whole process group on overrun, so that a child holding the output open does not keep the command running', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-fault-cmd-'));
    try {
      const pidFile = path.join(dir, 'child.pid');
      const run = await execCommand('--kill-store-cmd', `sleep 30 & echo $! > ${pidFile}; wait`, { env: process.env, timeoutMs: 500 });
      expect(run).toMatchObject({ exit: 'timeout', ok: false });
      expect(run.endAt - run.startAt).toBeLessThan(3_000);
      const child = Number(await readFile(pidFile, 'utf8'));
      expect(alive(child), `the shell's child ${child} after the timeout`).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stop at once, group and all, when the run is interrupted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 300);
    const startedAt = Date.now();
    await expect(execCommand('--verify-cmd', 'sleep 30 & wait', { env: process.env, signal: controller.signal })).rejects.toThrow('interrupted');
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it('get exactly the environment they are given, and say so when the shell cannot be started', async () => {
    const run = await execCommand('--verify-cmd', 'echo "${HOME-unset}"', { env: { PATH: process.env.PATH } });
    expect(run).toMatchObject({ exit: 'exit 0', output: 'unset', ok: true });
    await expect(execCommand('--verify-cmd', 'true', { env: process.env, cwd: '/nonexistent-hactl-dir' })).rejects.toThrow(/^--verify-cmd: could not run "true": .*ENOENT/);
  });
});

/** Whether a process still exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}
