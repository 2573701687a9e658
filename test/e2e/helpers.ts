import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

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
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      for (const watcher of watchers) watcher();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    mark,
    finished,
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
