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
 *
 * execa runs it: cancellation by one signal (the run's, or the time limit's), stdout and stderr
 * interleaved in one stream, how it ended. By hand, because execa signals only the process it
 * started: the kill of the whole group (a shell's children would otherwise outlive it, and hold
 * its output open so that it never ends), and the kill when hactl exits (execa's own `cleanup`
 * leaves a detached process alone).
 */
export async function execCommand(flag: string, command: string, options: CommandOptions): Promise<CommandRun> {
  // Loaded when first needed: hactl commands that run nothing (report, --help) do not pay its import;
  // before the command's clock starts, which the report's fault timeline uses.
  const { execa } = await import('execa');
  const timeoutMs = options.timeoutMs ?? FAULT_COMMAND_TIMEOUT_MS;
  const startAt = Date.now();
  const overrun = new AbortController();
  const cancelSignal = options.signal ? AbortSignal.any([options.signal, overrun.signal]) : overrun.signal;
  const subprocess = execa('/bin/sh', ['-c', command], {
    env: options.env,
    // The environment is the one given, exactly: a config file's run may not pass all of hactl's own.
    extendEnv: false,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdin: 'ignore',
    all: true,
    // Only the tail is kept: a chatty command must neither fill memory nor be killed for its output.
    buffer: false,
    detached: true,
    cancelSignal,
    killSignal: 'SIGKILL',
    forceKillAfterDelay: false,
    reject: false,
  });
  let output = '';
  subprocess.all?.on('data', (chunk: Buffer | string) => (output = (output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES)));
  const killGroup = () => {
    if (subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  const timer = setTimeout(() => overrun.abort(), timeoutMs);
  const progress = options.onProgress
    ? setInterval(() => {
        const seconds = Math.round((Date.now() - startAt) / 1000);
        options.onProgress!(`${flag} still running (${seconds} s of ${Math.round(timeoutMs / 1000)} s): ${command}`);
      }, options.progressEveryMs ?? PROGRESS_EVERY_MS)
    : undefined;
  cancelSignal.addEventListener('abort', killGroup, { once: true });
  process.once('exit', killGroup);
  try {
    const result = await subprocess;
    options.signal?.throwIfAborted();
    const overran = overrun.signal.aborted;
    if (result.failed && !overran && result.exitCode === undefined && result.signal === undefined) {
      // Neither an exit nor a signal: the shell itself could not be started (a missing cwd, say).
      const cause = result.cause instanceof Error ? result.cause.message : (result.originalMessage ?? result.shortMessage ?? 'unknown error');
      throw new EnvironmentError(`${flag}: could not run "${command}": ${cause}`);
    }
    const exit = overran ? 'timeout' : (result.signal ?? `exit ${result.exitCode}`);
    return { flag, command, startAt, endAt: Date.now(), exit, output: output.trim().slice(-OUTPUT_EXCERPT_CHARS).trim(), ok: !overran && result.exitCode === 0 };
  } finally {
    clearTimeout(timer);
    if (progress) clearInterval(progress);
    cancelSignal.removeEventListener('abort', killGroup);
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
