import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EnvironmentError } from '../errors.js';
import { pollUntil, withTimeout } from '../time.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process hactl started, tracked by PID until it has exited. */
export interface Supervised {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The last few KiB of the child's stdout and stderr, for error messages. */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Its stop signal (SIGTERM unless the program wants another), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const OUTPUT_TAIL_BYTES = 4096;
const KILL_WAIT_MS = 5_000;

/**
 * Starts and tracks every process of a run. Children get their own process group, so a Ctrl-C in
 * the terminal reaches hactl alone and hactl tears them down in order; if hactl exits without
 * that, `killAllNow` (wired to process 'exit') SIGKILLs whatever is still tracked.
 */
export class ProcessSupervisor {
  private readonly running = new Set<Supervised>();

  spawn(
    name: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions & { stopSignal?: NodeJS.Signals } = {},
  ): Supervised {
    const { stopSignal = 'SIGTERM', ...spawnOptions } = options;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOptions });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    let done = false;
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true;
        this.running.delete(handle);
        resolve({ code, signal });
      });
      child.once('error', (error) => {
        keep(Buffer.from(`${error.message}\n`));
        done = true;
        this.running.delete(handle);
        resolve({ code: null, signal: null });
      });
    });
    if (child.pid === undefined) {
      // spawn failed at once (ENOENT, EACCES); the 'error' event that follows settles `exited`.
      throw new EnvironmentError(`could not start ${name} (${command}): no such executable or permission denied`);
    }

    const handle: Supervised = {
      name,
      pid: child.pid,
      child,
      exited,
      hasExited: () => done,
      output: () => tail.trim(),
      kill: (signal) => {
        if (!done) child.kill(signal);
      },
      stop: async (graceMs = 3_000) => {
        if (done) return exited;
        child.kill(stopSignal);
        const graceful = await withTimeout(exited, graceMs, () => new Error('grace period over')).catch(() => undefined);
        if (graceful) return graceful;
        child.kill('SIGKILL');
        return withTimeout(exited, KILL_WAIT_MS, () => new EnvironmentError(`${name} (pid ${child.pid}) did not exit after SIGKILL`));
      },
    };
    this.running.add(handle);
    return handle;
  }

  /** Stops every tracked process, newest first (replicas before the store they depend on). */
  async stopAll(graceMs?: number): Promise<void> {
    const newestFirst = [...this.running].reverse();
    await Promise.all(newestFirst.map((handle) => handle.stop(graceMs).catch(() => undefined)));
  }

  /** Last resort on process exit: synchronous, so it works inside an 'exit' handler. */
  killAllNow(): void {
    for (const handle of this.running) {
      try {
        process.kill(handle.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export interface ReadyOptions {
  /** How the server is named in errors, e.g. "redis-server on 127.0.0.1:6379". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
}

/** Polls `probe` until the server answers; fails at once, with its output, if the process exits. */
export async function waitUntilReady(server: Supervised, probe: () => Promise<boolean>, options: ReadyOptions): Promise<Supervised> {
  await pollUntil(
    async () => {
      if (server.hasExited()) throw new EnvironmentError(`${options.what} exited during start-up: ${server.output() || 'no output'}`);
      return (await probe()) ? true : undefined;
    },
    {
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs,
      signal: options.signal,
      onTimeout: () => new EnvironmentError(`${options.what} was not ready within ${options.timeoutMs} ms: ${server.output() || 'no output'}`),
    },
  );
  return server;
}
