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
});
