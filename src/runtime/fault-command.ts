import { spawn } from 'node:child_process';
import { EnvironmentError } from '../errors.js';

/** The `{field}`s a fault command may use (--kill-replica-cmd and friends). */
export const FAULT_COMMAND_FIELDS = ['replica', 'ordinal', 'signal', 'target'] as const;

/** How long a user's fault command may run: it asks a platform to act, it does not wait for the outcome. */
export const FAULT_COMMAND_TIMEOUT_MS = 120_000;
const OUTPUT_TAIL_BYTES = 2048;

/**
 * Runs a user's fault command under /bin/sh, in a process group of its own that is killed if it
 * overruns its time or the run is interrupted. Fails, with the command's output, when it exits
 * non-zero: a fault that did not happen must not be reported as one.
 */
export async function runFaultCommand(what: string, command: string, options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<void> {
  const timeoutMs = options.timeoutMs ?? FAULT_COMMAND_TIMEOUT_MS;
  const child = spawn('/bin/sh', ['-c', command], { env: options.env, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  let overran = false;
  const timer = setTimeout(() => {
    overran = true;
    killGroup();
  }, timeoutMs);
  options.signal?.addEventListener('abort', killGroup, { once: true });
  process.once('exit', killGroup);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (error) => reject(new EnvironmentError(`${what}: could not run "${command}": ${error.message}`)));
      child.once('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
    });
    options.signal?.throwIfAborted();
    if (overran) throw new EnvironmentError(`${what}: "${command}" did not finish within ${timeoutMs / 1000} s; ${output.trim() || 'no output'}`);
    if (code !== 0) throw new EnvironmentError(`${what}: "${command}" failed (${signal ?? `exit ${code}`}): ${output.trim() || 'no output'}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', killGroup);
    process.off('exit', killGroup);
  }
}
