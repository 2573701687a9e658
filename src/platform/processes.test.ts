import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goneState, groupHasLiving, ProcessSupervisor } from './processes.js';

/** Whether the kernel still has any process of the group, zombies included. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any process of the group is left that is not a zombie, read from /proc here rather than
 * through the module's own helpers: a zombie holds nothing and waits only for its reaper, which
 * under some PID 1s reaps late or never.
 */
function groupLiving(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

describe('ProcessSupervisor.killGroup', () => {
  it('kills what the process started too, and resolves only once none of its group is left', async () => {
    const supervisor = new ProcessSupervisor();
    // A parent that leaves a child behind when it dies alone, as PostgreSQL's postmaster does its workers.
    const parent = await supervisor.spawn('sh', '/bin/sh', ['-c', 'sleep 30 & sleep 30']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(groupLiving(parent.pid)).toBe(true);
      await parent.killGroup('SIGKILL');
      expect(groupLiving(parent.pid)).toBe(false);
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

describe('a process group is gone once only zombies are left of it', () => {
  it('counts a zombie as gone, as it counts a process that no longer exists', () => {
    expect(goneState('Z')).toBe(true);
    expect(goneState(undefined)).toBe(true);
    for (const state of ['R', 'S', 'D', 'T', 't', 'I']) expect(goneState(state)).toBe(false);
  });

  it('finds a living member of the group by its pgrp, whatever else /proc holds', () => {
    // statFields' order: state, ppid, pgrp.
    const zombiesOnly = [['Z', '1', '700'], ['Z', '1', '700'], ['S', '1', '701']];
    expect(groupHasLiving(700, zombiesOnly)).toBe(false);
    expect(groupHasLiving(701, zombiesOnly)).toBe(true);
    expect(groupHasLiving(700, [...zombiesOnly, ['S', '700', '700']])).toBe(true);
    expect(groupHasLiving(700, [])).toBe(false);
  });

  it('stops a group at once when what is left of it is a zombie its parent never reaps', async () => {
    // The group's leader (python) forks a parent that leaves the group and never reaps; that
    // parent forks a child that joins the leader's group again. The stop signal ends the leader
    // and the child: the child stays a zombie in the group for as long as its parent lives, as an
    // orphan does under a PID 1 that never reaps. Grace is long, so that waiting for the zombie
    // (or for a late reaper) shows as a stop that takes the whole grace period.
    const script = [
      'import os, signal, sys, time',
      'leader = os.getpgrp()',
      'if os.fork() == 0:',
      '    os.setpgid(0, 0)',
      '    signal.signal(signal.SIGTERM, signal.SIG_IGN)',
      '    if os.fork() == 0:',
      '        signal.signal(signal.SIGTERM, signal.SIG_DFL)',
      '        os.setpgid(0, leader)',
      '        time.sleep(60)',
      '        os._exit(0)',
      '    print(os.getpid(), flush=True)',
      '    time.sleep(60)',
      '    os._exit(0)',
      'time.sleep(60)',
    ].join('\n');
    const supervisor = new ProcessSupervisor();
    const leader = await supervisor.spawn('python3', 'python3', ['-c', script], { wholeGroup: true });
    const parent = await new Promise<number>((resolve) => leader.child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(groupLiving(leader.pid)).toBe(true);
      const started = Date.now();
      await leader.stop(10_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      // The zombie is still there: the group is gone by hactl's meaning, not by the kernel's.
      expect(groupLiving(leader.pid)).toBe(false);
      expect(groupAlive(leader.pid)).toBe(true);
    } finally {
      try {
        process.kill(parent, 'SIGKILL');
      } catch {
        // a stop that escalated to killGroup has killed it already
      }
      await supervisor.stopAll();
    }
  }, 20_000);
});
