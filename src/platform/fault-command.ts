import { spawn } from 'node:child_process';
import { EnvironmentError } from './errors.js';

/** The `{field}`s a fault command may use (--kill-replica-cmd and friends). */
export const FAULT_COMMAND_FIELDS = ['replica', 'ordinal', 'signal', 'target'] as const;
/** --verify-cmd serves both faults: {fault} says which one it is asked about. */
export const VERIFY_COMMAND_FIELDS = [...FAULT_COMMAND_FIELDS, 'fault'] as const;

/** How long a user's fault command may run by default (--fault-timeout): it asks a platform to act, it does not wait for the outcome. */
export const FAULT_COMMAND_TIMEOUT_MS = 120_000;
const OUTPUT_TAIL_BYTES = 2048;
/** What a report keeps of a command's output. */
const OUTPUT_EXCERPT_CHARS = 500;
/** A command that runs longer than this is told about, every as often, so that a wait is never silent. */
export const PROGRESS_EVERY_MS = 5_000;


/** One run of a user's fault command. */
export interface FaultCommandRun {
  /** '--kill-replica-cmd', '--start-replica-cmd', '--kill-store-cmd', '--start-store-cmd', '--verify-cmd', '--store-ready-cmd' */
  flag: string;
  /** The command line as run (fields filled in). */
  command: string;
  /** Milliseconds since the scenario started. */
  startAt: number;
  endAt: number;
  /** 'exit 0', 'exit 4', 'SIGKILL', 'timeout'. */
  exit: string;
  /** The last <= 500 characters of stdout+stderr, trimmed. */
  output: string;
}

/**
 * One run of a user's command, as the report keeps it but in epoch milliseconds (the phase turns
 * them into scenario time), and whether it passed.
 */
export interface CommandRun extends FaultCommandRun {
  ok: boolean;
}

/** A fault command that failed, with its run, so that the record of what was done survives. */
export class FaultCommandError extends EnvironmentError {
  constructor(
    message: string,
    readonly run: CommandRun,
  ) {
    super(message);
  }
}

export interface CommandOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told every PROGRESS_EVERY_MS while the command runs past its first PROGRESS_EVERY_MS. */
  onProgress?(line: string): void;
  progressEveryMs?: number;
}

/**
 * Runs a user's command under /bin/sh, in a process group of its own that is killed if it
 * overruns its time or the run is interrupted, and says how it went. Never throws for the
 * command's own failure (a --verify-cmd that exits 1 is an answer); only for one that could not
 * be started, or for the run being interrupted.
 */
export async function execCommand(flag: string, command: string, options: CommandOptions): Promise<CommandRun> {
  const timeoutMs = options.timeoutMs ?? FAULT_COMMAND_TIMEOUT_MS;
  const startAt = Date.now();
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
  const progress = options.onProgress
    ? setInterval(() => {
        const seconds = Math.round((Date.now() - startAt) / 1000);
        options.onProgress!(`${flag} still running (${seconds} s of ${Math.round(timeoutMs / 1000)} s): ${command}`);
      }, options.progressEveryMs ?? PROGRESS_EVERY_MS)
    : undefined;
  options.signal?.addEventListener('abort', killGroup, { once: true });
  process.once('exit', killGroup);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (error) => reject(new EnvironmentError(`${flag}: could not run "${command}": ${error.message}`)));
      child.once('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
    });
    options.signal?.throwIfAborted();
    const exit = overran ? 'timeout' : (signal ?? `exit ${code}`);
    return { flag, command, startAt, endAt: Date.now(), exit, output: output.trim().slice(-OUTPUT_EXCERPT_CHARS).trim(), ok: !overran && code === 0 };
  } finally {
    clearTimeout(timer);
    if (progress) clearInterval(progress);
    options.signal?.removeEventListener('abort', killGroup);
    process.off('exit', killGroup);
  }
}

/**
 * Runs a fault command and fails, with its output, when it does not exit 0 in time: a fault that
 * did not happen must not be reported as one.
 */
export async function runFaultCommand(flag: string, command: string, options: CommandOptions): Promise<CommandRun> {
  const run = await execCommand(flag, command, options);
  const timeoutMs = options.timeoutMs ?? FAULT_COMMAND_TIMEOUT_MS;
  if (run.exit === 'timeout') throw new FaultCommandError(`${flag}: "${command}" did not finish within ${timeoutMs / 1000} s; ${run.output || 'no output'}`, run);
  if (!run.ok) throw new FaultCommandError(`${flag}: "${command}" failed (${run.exit}): ${run.output || 'no output'}`, run);
  return run;
}
