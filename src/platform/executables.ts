import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';

/** An explicit path from the environment if set (it must exist), else the first match on PATH. */
export async function findExecutable(name: string, override: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (override) return (await isExecutable(override)) ? override : undefined;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A regular file this process may execute (X_OK alone would accept a directory, as root). */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** How a program answered `file args`: its output, and what went wrong if it did not exit 0 in time. */
export interface ProbeResult {
  /** stdout and stderr, interleaved as the program wrote them, trimmed. */
  output: string;
  /** Why the probe failed, naming the command and how it ended (execa's short message); none when it exited 0. */
  failure?: string;
  /** How it ended, in a report's words: 'exit 0', 'exit 127', 'timeout', 'SIGKILL', or why it did not start ('ENOENT'). */
  ended: string;
}

/**
 * Runs `file args` (a version probe, say), bounded in time, and says how it went; never throws.
 * execa times it out, kills it after a grace period and says how it ended. By hand, what it cannot
 * do: once the program has exited, its process group goes too, since a wrapper script's child
 * would hold the output open, and so the probe, past its timeout.
 */
export async function probe(file: string, args: readonly string[], timeoutMs = 5_000): Promise<ProbeResult> {
  // Loaded when first needed: hactl commands that run nothing (report, --help) do not pay its import.
  const { execa } = await import('execa');
  const subprocess = execa(file, args, { timeout: timeoutMs, stdin: 'ignore', all: true, reject: false, forceKillAfterDelay: 1_000, detached: true });
  const killGroup = () => {
    try {
      process.kill(-subprocess.pid!, 'SIGKILL');
    } catch {
      // nothing of it left
    }
  };
  subprocess.once('exit', killGroup);
  // Detached, a probe is out of reach of execa's own cleanup (and of a Ctrl-C): hactl's exit takes it.
  process.once('exit', killGroup);
  const result = await subprocess.finally(() => process.off('exit', killGroup));
  const output = (result.all ?? '').trim();
  const ended = result.timedOut ? 'timeout' : (result.signal ?? (result.exitCode !== undefined ? `exit ${result.exitCode}` : String((result.cause as NodeJS.ErrnoException | undefined)?.code ?? 'not started')));
  return result.failed ? { output, ended, failure: result.shortMessage ?? `${file} ${args.join(' ')} failed (${ended})` } : { output, ended };
}

/** Runs `file args` and returns its output, bounded in time; never throws. */
export async function readOutput(file: string, args: readonly string[], timeoutMs = 5_000): Promise<string> {
  return (await probe(file, args, timeoutMs)).output;
}
