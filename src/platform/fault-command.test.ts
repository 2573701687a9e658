import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
});
