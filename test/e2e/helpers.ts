import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Report } from '../../src/report/model.js';

export const HACTL = fileURLToPath(new URL('../../bin/hactl.js', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  /** A marker in the environment of hactl and everything it starts, to find those processes. */
  mark: string;
  finished: Promise<Finished>;
  /** What hactl has written to stderr so far. */
  stderr(): string;
  /** Every process seen descending from hactl while it ran (name by pid). */
  seen(): Map<number, string>;
  /** Their command lines, as last seen (arguments joined by spaces). */
  commands(): Map<number, string>;
  /** Once hactl has exited: processes it started that are still alive, by name. */
  leftovers(): Promise<string[]>;
  /** Resolves once stderr contains `text`; rejects if hactl exits or `timeoutMs` passes first. */
  waitForStderr(text: string | RegExp, timeoutMs: number): Promise<void>;
}

/** Starts the real CLI, as a user would, with a marker in its environment. */
export function startHactl(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 170_000): Started {
  const mark = randomUUID();
  const child = spawn(process.execPath, [HACTL, ...args], {
    env: { ...process.env, ...env, HACTL_TEST_MARK: mark, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const watcher of watchers) watcher();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const watch = watchDescendants(child.pid!);
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      watch.stop();
      for (const watcher of watchers) watcher();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    mark,
    finished,
    stderr: () => stderr,
    seen: () => watch.seen,
    commands: () => watch.commands,
    async leftovers() {
      await finished;
      const alive = await watch.survivors();
      const marked = (await markedProcesses(mark)).filter((pid) => !alive.some((entry) => entry.pid === pid));
      return [...alive.map((entry) => `${entry.name} (pid ${entry.pid})`), ...marked.map((pid) => `marked process ${pid}`)];
    },
    waitForStderr(text, waitMs) {
      return new Promise((resolve, reject) => {
        const matches = () => (typeof text === 'string' ? stderr.includes(text) : text.test(stderr));
        const timer = setTimeout(() => done(new Error(`stderr did not show ${String(text)} within ${waitMs} ms:\n${stderr}`)), waitMs);
        const check = () => {
          if (matches()) done();
          else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`hactl exited before stderr showed ${String(text)}:\n${stderr}`));
        };
        const done = (error?: Error) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error) reject(error);
          else resolve();
        };
        watchers.add(check);
        check();
      });
    },
  };
}

export function runHactl(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<Finished> {
  return startHactl(args, env, timeoutMs).finished;
}

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  startTime: string;
  name: string;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // "pid (comm) state ppid ... starttime(22) ..."; comm may hold spaces and parentheses.
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { pid, name: text.slice(text.indexOf('(') + 1, close), state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]! };
}

/**
 * Records every process descending from `root` while it runs, polling /proc. A process's
 * environment is no proof of where it came from (redis-server overwrites its own, PostgreSQL's
 * workers never had the marker), but parentage while hactl is alive is.
 */
function watchDescendants(root: number) {
  const seen = new Map<number, string>();
  const commands = new Map<number, string>();
  const startTimes = new Map<number, string>();
  let stopped = false;
  const poll = async () => {
    const stats = (await Promise.all((await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map((e) => readStat(Number(e))))).filter(
      (stat): stat is ProcStat => stat !== undefined,
    );
    const children = new Map<number, ProcStat[]>();
    for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
    const stack = [...(children.get(root) ?? [])];
    while (stack.length > 0) {
      const stat = stack.pop()!;
      if (!startTimes.has(stat.pid)) startTimes.set(stat.pid, stat.startTime);
      // The latest name: a process first seen between fork and exec (setpriv) is named for what it runs.
      if (startTimes.get(stat.pid) === stat.startTime && seen.get(stat.pid) !== stat.name) {
        seen.set(stat.pid, stat.name);
        const cmdline = await readFile(`/proc/${stat.pid}/cmdline`, 'utf8').catch(() => '');
        if (cmdline) commands.set(stat.pid, cmdline.split('\0').filter(Boolean).join(' '));
      }
      stack.push(...(children.get(stat.pid) ?? []));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    seen,
    commands,
    stop: () => {
      stopped = true;
    },
    /** Recorded processes still alive (same pid and start time, not a zombie). */
    async survivors() {
      await loop;
      const alive: Array<{ pid: number; name: string }> = [];
      for (const [pid, startTime] of startTimes) {
        const stat = await readStat(pid);
        if (stat && stat.startTime === startTime && stat.state !== 'Z') alive.push({ pid, name: seen.get(pid)! });
      }
      return alive;
    },
  };
}

/** PIDs of live processes whose environment carries the marker (zombies have an empty environ). */
export async function markedProcesses(mark: string): Promise<number[]> {
  const needle = `HACTL_TEST_MARK=${mark}`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

/** A stack trace line, which a user mistake must never print. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

/** Containers and networks a run left on the Docker engine, by its run label. */
export async function dockerLeftovers(runId: string): Promise<string[]> {
  const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
  const { docker } = await connectEngine(process.env);
  const label = [`io.hactl.run=${runId}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const networks = await docker.listNetworks({ filters: { label } });
  return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`)];
}

/** The run id hactl prints on its first progress line. */
export function runIdOf(stderr: string): string {
  const match = /hactl: run ([0-9a-f]{8}),/.exec(stderr);
  if (!match) throw new Error(`no run id in stderr:\n${stderr}`);
  return match[1]!;
}

/** A TCP port free on 127.0.0.1 a moment ago, for a server a test starts itself. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** PHP's CLI with php-redis, which the PHP fixture apps need (.ci/run installs both); says what to install when missing. */
export async function requirePhp(who: string): Promise<void> {
  let modules: string;
  try {
    modules = (await promisify(execFile)('php', ['-m'], { timeout: 10_000 })).stdout;
  } catch (error) {
    throw new Error(`php is needed for ${who} and could not be run (${(error as Error).message}); install it: apt-get install -y php-cli php-redis`);
  }
  if (!/^redis$/im.test(modules)) throw new Error(`the PHP redis extension is needed for ${who} and is missing; install it: apt-get install -y php-redis`);
}

/** Rows on which hactl warned that a replica no fault touched left rotation (`unstable-health`), as `strategy × scenario: message`. */
export function unstableRows(report: Report): string[] {
  return report.results.flatMap((row) => (row.warnings ?? []).filter((warning) => warning.id === 'unstable-health').map((warning) => `${row.strategy} × ${row.scenario}: ${warning.message}`));
}
