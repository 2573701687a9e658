import { describe, expect, it } from 'vitest';
import { ProcessSupervisor } from './processes.js';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ProcessSupervisor.killGroup', () => {
  it('kills what the process started too, and resolves only once none of its group is left', async () => {
    const supervisor = new ProcessSupervisor();
    // A parent that leaves a child behind when it dies alone, as PostgreSQL's postmaster does its workers.
    const parent = await supervisor.spawn('sh', '/bin/sh', ['-c', 'sleep 30 & sleep 30']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(groupAlive(parent.pid)).toBe(true);
      await parent.killGroup('SIGKILL');
      expect(groupAlive(parent.pid)).toBe(false);
    } finally {
      await supervisor.stopAll();
    }
  });

  it('kills the children that left its group too, as each PostgreSQL backend does with setsid()', async () => {
    const supervisor = new ProcessSupervisor();
    const parent = await supervisor.spawn('sh', '/bin/sh', ['-c', 'setsid sleep 30 & echo $! ; sleep 30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const stray = await new Promise<number>((resolve) => parent.child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(() => process.kill(stray, 0)).not.toThrow();
      expect(groupAlive(stray)).toBe(true);
      await parent.killGroup('SIGKILL');
      // Gone, or a zombie waiting for its new parent to reap it: either way it holds nothing.
      const state = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${stray}/stat`, 'utf8').catch(() => ''));
      expect(state === '' || state.slice(state.lastIndexOf(')') + 2)[0] === 'Z').toBe(true);
    } finally {
      await supervisor.stopAll();
    }
  });
});
