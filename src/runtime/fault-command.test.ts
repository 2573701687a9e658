import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../errors.js';
import { runFaultCommand } from './fault-command.js';

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
});
