import { execFile } from 'node:child_process';
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

/** Runs `file args` and returns its output, bounded in time; never throws. */
export async function readOutput(file: string, args: readonly string[], timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (_error, stdout, stderr) => resolve(`${stdout}${stderr}`.trim()));
  });
}
