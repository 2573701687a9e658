import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { pollUntil, withTimeout } from './time.js';
import { GroupReaper } from './group-reaper.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process hactl started, tracked by PID until it has exited. */
export interface Supervised {
  name: string;
  pid: number;
  /** Kill and stop reach its whole process group. */
  wholeGroup: boolean;
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The last few KiB of the child's stdout and stderr, for error messages. */
  output(): string;
  /** Sends a signal and resolves once the process is gone (bounded). */
  kill(signal: NodeJS.Signals): Promise<ExitInfo>;
  /** Its stop signal (SIGTERM unless the program wants another), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** Signals the process and everything it started (its process group: PostgreSQL's workers, say). */
  signalGroup(signal: NodeJS.Signals): void;
  /**
   * Kills the whole process group, as a crash of the machine or container would, and resolves
   * once none of it is left: a server started again on the same data must not find a worker of
   * the old one still holding it (PostgreSQL's shared memory).
   */
  killGroup(signal: NodeJS.Signals): Promise<ExitInfo>;
}

export interface SuperviseOptions extends Omit<SpawnOptions, 'uid' | 'gid'> {
  /** How the program asks to be stopped gracefully. */
  stopSignal?: NodeJS.Signals;
  /** Run as this user instead of hactl's own (PostgreSQL refuses root). */
  runAs?: { uid: number; gid: number };
  /**
   * Signal the whole process group on kill and stop, not just the process: a user's command runs
   * under a shell, and what it starts (PHP's workers, say) must go with it.
   */
  wholeGroup?: boolean;
}

const OUTPUT_TAIL_BYTES = 4096;
const KILL_WAIT_MS = 5_000;

/**
 * util-linux's setpriv sets the parent-death signal before it execs the program: if hactl dies
 * without tearing down (SIGKILL, a closed terminal), the kernel kills its children too. It also
 * switches users, and unlike spawn's uid option it keeps the parent-death signal while doing so.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => process.platform === 'linux' && existsSync(file));

/**
 * Starts and tracks every process of a run. Children get their own process group, so a Ctrl-C in
 * the terminal reaches hactl alone and hactl tears them down in order; if hactl exits without
 * that, `killAllNow` (wired to process 'exit') SIGKILLs whatever is still tracked.
 */
export class ProcessSupervisor {
  private readonly running = new Set<Supervised>();
  private readonly reaper: GroupReaper;
  private readonly ownsReaper: boolean;

  /**
   * `reaper`: one shared with what else guards the run (the local runtime's run directory), so
   * that a single watcher kills the groups before it removes the directory they may be using;
   * its owner closes it. Without one, the supervisor has its own and closes it in stopAll.
   */
  constructor(reaper?: GroupReaper) {
    this.reaper = reaper ?? new GroupReaper();
    this.ownsReaper = reaper === undefined;
  }

  /** Resolves once the process is running; a program that cannot be executed is an EnvironmentError. */
  async spawn(name: string, command: string, args: readonly string[], options: SuperviseOptions = {}): Promise<Supervised> {
    const { stopSignal = 'SIGTERM', runAs, wholeGroup = false, ...spawnOptions } = options;
    const [file, argv] = SETPRIV
      ? [SETPRIV, [...(runAs ? [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups'] : []), '--pdeathsig', 'SIGKILL', '--', command, ...args]]
      : [command, [...args]];
    const child = spawn(file, argv, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...spawnOptions,
      ...(runAs && !SETPRIV ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });

    let tail = '';
    const keep = (chunk: Buffer | string) => {
      tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let done = false;
    let handle: Supervised | undefined;
    const exited = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo) => {
        done = true;
        // A group's other processes may outlive its leader: it stays tracked until they are gone.
        if (handle && !wholeGroup) this.running.delete(handle);
        resolve(info);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.once('error', (error) => {
        keep(`${error.message}\n`);
        finish({ code: null, signal: null });
      });
    });

    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(new EnvironmentError(`could not start ${name} (${path.basename(command)}): ${error.code ?? error.message} for ${command}`)),
      );
    });

    const waitForExit = () =>
      withTimeout(exited, KILL_WAIT_MS, () => new EnvironmentError(`${name} (pid ${child.pid}) did not exit after SIGKILL`));
    // A group is done with once everything it reached has gone, not just its shell.
    const groupGone = (timeoutMs: number, why: string) =>
      pollUntil(() => (groupAlive(child.pid!) ? undefined : true), { timeoutMs, intervalMs: 20, onTimeout: () => new Error(why) }).then(() => {
        this.forget(handle!);
        return exited;
      });
    handle = {
      name,
      pid: child.pid!,
      wholeGroup,
      child,
      exited,
      hasExited: () => done,
      output: () => tail.trim(),
      kill: async (signal) => {
        // A crash takes the group at once; waiting for every member's reaping would only delay
        // the users' next requests past the balancer's notice.
        if (wholeGroup) handle!.signalGroup(signal);
        else if (!done) child.kill(signal);
        if (signal === 'SIGKILL') return waitForExit();
        const over = wholeGroup ? groupGone(KILL_WAIT_MS, 'still running') : withTimeout(exited, KILL_WAIT_MS, () => new Error('still running'));
        const gone = await over.catch(() => undefined);
        return gone ?? handle!.stop(0);
      },
      signalGroup: (signal) => {
        if (done && !wholeGroup) return;
        try {
          process.kill(-child.pid!, signal);
        } catch {
          child.kill(signal);
        }
      },
      killGroup: async (signal) => {
        // Children that left the group (PostgreSQL's backends each call setsid()) are found by
        // parentage before the kill, while they still have a parent to be found by.
        const strays = signal === 'SIGKILL' ? await straysOf(child.pid!) : [];
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // the group is gone already
        }
        for (const pid of strays) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        const info = await (signal === 'SIGKILL' ? waitForExit() : withTimeout(exited, KILL_WAIT_MS, () => new Error('still running')).catch(() => handle!.stop(0)));
        await pollUntil(() => (groupAlive(child.pid!) || strays.some(alive) ? undefined : true), {
          timeoutMs: KILL_WAIT_MS,
          intervalMs: 10,
          onTimeout: () => new EnvironmentError(`processes of ${name} (process group ${child.pid}) were still running ${KILL_WAIT_MS} ms after ${signal}`),
        });
        this.forget(handle!);
        return info;
      },
      stop: async (graceMs = 3_000) => {
        if (done && wholeGroup && this.running.has(handle!)) return handle!.killGroup('SIGKILL');
        if (done) return exited;
        if (wholeGroup) handle!.signalGroup(stopSignal);
        else child.kill(stopSignal);
        // A paused (SIGSTOPped) process acts on its stop signal only once it runs again.
        handle!.signalGroup('SIGCONT');
        if (wholeGroup) {
          // The shell may go first: what it started gets the rest of the grace period to finish.
          const gone = await groupGone(graceMs, 'grace period over').catch(() => undefined);
          return gone ?? handle!.killGroup('SIGKILL');
        }
        const graceful = await withTimeout(exited, graceMs, () => new Error('grace period over')).catch(() => undefined);
        if (graceful) return graceful;
        child.kill('SIGKILL');
        return waitForExit();
      },
    };
    this.running.add(handle);
    if (wholeGroup) this.reaper.add(handle.pid);
    return handle;
  }

  private forget(handle: Supervised): void {
    this.running.delete(handle);
    if (handle.wholeGroup) this.reaper.remove(handle.pid);
  }

  /** Stops every tracked process, newest first: replicas before the store they depend on. */
  async stopAll(graceMs?: number): Promise<void> {
    for (const handle of [...this.running].reverse()) await handle.stop(graceMs).catch(() => undefined);
    if (this.running.size === 0 && this.ownsReaper) await this.reaper.close();
  }

  /** Last resort on process exit: synchronous, so it works inside an 'exit' handler. */
  killAllNow(): void {
    for (const handle of this.running) {
      try {
        process.kill(handle.wholeGroup ? -handle.pid : handle.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * The processes below `root` that left its process group, found by parentage in one pass over
 * /proc (Linux; none elsewhere). The files are read together, not one by one, so that the kill
 * this precedes waits as little as it can.
 */
async function straysOf(root: number): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry)).map(Number);
  const stats = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').then(statFields, () => [] as string[])));
  const children = new Map<number, { pid: number; pgrp: number }[]>();
  stats.forEach(([, ppid, pgrp], index) => {
    if (ppid === undefined) return;
    const siblings = children.get(Number(ppid)) ?? [];
    siblings.push({ pid: pids[index]!, pgrp: Number(pgrp) });
    children.set(Number(ppid), siblings);
  });
  const strays: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (child.pgrp !== root) strays.push(child.pid);
      queue.push(child.pid);
    }
  }
  return strays;
}

/** The fields of /proc/PID/stat after "pid (comm) ": state, ppid, pgrp, ...; comm may hold spaces and parentheses. */
function statFields(stat: string): string[] {
  return stat === '' ? [] : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function statOf(pid: number): string[] {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * The one meaning of "gone" for a process: it no longer exists, or it is a zombie. A zombie holds
 * nothing (no memory, ports or files) and only waits for its parent to reap it; an orphan's
 * parent is PID 1, and a PID 1 that reaps late, or never (a container's or a VM's own init), must
 * not keep hactl waiting for a process that has already ended.
 */
export function goneState(state: string | undefined): boolean {
  return state === undefined || state === 'Z';
}

/** Whether a process still exists and is not a zombie. */
function alive(pid: number): boolean {
  return !goneState(statOf(pid)[0]);
}

/**
 * Whether any process of the group is left, by the same meaning of gone as `alive`: a group whose
 * members are all zombies is gone. The signal test answers at once for a group with no member at
 * all (zombies included); only a group that still has one is looked for in /proc.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  return groupHasLiving(pgid, procStats());
}

/** Whether any of `stats` (the fields statFields reads: state, ppid, pgrp, ...) is a living member of group `pgid`. */
export function groupHasLiving(pgid: number, stats: Iterable<readonly string[]>): boolean {
  for (const [state, , pgrp] of stats) if (Number(pgrp) === pgid && !goneState(state)) return true;
  return false;
}

/** The stat fields of every process in /proc, read as it is: a process may go between the listing and its read. */
function* procStats(): Generator<string[]> {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const entry of entries) if (/^\d+$/.test(entry)) yield statOf(Number(entry));
}

export interface ReadyOptions {
  /** How the server is named in errors, e.g. "redis-server on 127.0.0.1:6379". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  /** What the readiness probe last saw, for the timeout's message. */
  lastProbe?: () => string;
}

/**
 * Polls `probe` until the server answers. Fails at once, with its output, if the process exits;
 * a process that never became ready is stopped before the error is thrown, so no caller can
 * leave one behind.
 */
export async function waitUntilReady(server: Supervised, probe: () => Promise<boolean>, options: ReadyOptions): Promise<Supervised> {
  try {
    await pollUntil(
      async () => {
        if (server.hasExited()) throw new EnvironmentError(`${options.what} exited during start-up: ${server.output() || 'no output'}`);
        return (await probe()) ? true : undefined;
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: options.intervalMs,
        signal: options.signal,
        onTimeout: () =>
          new EnvironmentError(`${options.what} was not ready within ${options.timeoutMs} ms${options.lastProbe ? `; its health path last ${options.lastProbe()}` : ''}: ${server.output() || 'no output'}`),
      },
    );
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  return server;
}
