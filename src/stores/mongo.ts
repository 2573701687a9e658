import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { freePort } from '../platform/ports.js';
import { waitUntilReady } from '../platform/processes.js';
import { findExecutable, readOutput } from '../platform/executables.js';
import { serverProcessNode } from './server-process.js';
import { replicaSetNodes } from './mongo-replica-set.js';
import { startReplicaSet } from './mongo-replication.js';
import { nodeAddress, ONE_NODE, oneNodeStore, type LocalStoreContext, type ReplicationOptions, type RunningStore, type StoreModule } from './store.js';

const READY_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 3_000;

/**
 * MongoDB, standing in for Amazon DocumentDB (Spring Session MongoDB's target in the write-up).
 * Either a `mongod` hactl starts, or an existing server named by HACTL_MONGO_URL, in which case
 * hactl works in a database of its own per run and drops it afterwards.
 */
export const mongo: StoreModule = {
  name: 'mongo',
  appStore: 'mongo',
  nodes: (options) => (options.replication ? replicaSetNodes(options.replication) : ONE_NODE),
  local: {
    async check(env) {
      if (env.HACTL_MONGO_URL) {
        const reachable = await probe(env.HACTL_MONGO_URL).then(() => undefined, errorMessage);
        if (reachable === undefined) return { available: true, detail: redact(env.HACTL_MONGO_URL) };
        return {
          available: false,
          reason: `HACTL_MONGO_URL (${redact(env.HACTL_MONGO_URL)}) did not answer a ping: ${reachable}`,
          fix: 'check that the server is running and the URL is right, or unset HACTL_MONGO_URL to use a local mongod',
        };
      }
      const binary = await findExecutable('mongod', env.HACTL_MONGOD, env);
      if (binary) return { available: true, detail: binary };
      return {
        available: false,
        reason: 'no mongod on PATH and HACTL_MONGO_URL is not set',
        fix: 'install MongoDB Community Server (mongod), or for the one-node mongo set HACTL_MONGO_URL=mongodb://host:27017 to use an existing server (mongo:replica-set and mongo:replica-set-majority run mongod members of their own)',
      };
    },
    start(context, options) {
      if (options.replication) return startReplicated(context, options.replication);
      return context.env.HACTL_MONGO_URL ? useExisting(context.env.HACTL_MONGO_URL, context) : startMongod(context);
    },
  },
  docker: {
    image: { key: 'mongo', default: 'mongo:7' },
    replicatedByItself: true,
    port: 27017,
    container: ({ host, port }) => ({ command: ['mongod', '--port', String(port), '--bind_ip', host], env: {} }),
    url: (host, port) => `mongodb://${host}:${port}/hactl`,
    probe: (host, port) => probe(`mongodb://${host}:${port}/hactl`).then(() => true, () => false),
    settings: () => 'journaled',
  },
  countEntries: countDocuments,
  urlField: 'mongoUrl',
};

async function useExisting(baseUrl: string, context: LocalStoreContext): Promise<RunningStore> {
  const database = `hactl_${context.runId}`;
  const url = withDatabase(baseUrl, database);
  await probe(url);
  // A node hactl reaches but does not run: no controls, so kill-store and pauses are skipped
  // with the reason (restartable() is false) rather than attempted.
  return oneNodeStore({
    name: 'mongo',
    description: `MongoDB at ${redact(baseUrl)} (database ${database}, dropped after the run)`,
    address: nodeAddress(url),
    endpoint: url,
    countEntries: () => countDocuments(url),
    async stop() {
      const { MongoClient } = await import('mongodb');
      const client = new MongoClient(url, { serverSelectionTimeoutMS: PROBE_TIMEOUT_MS });
      try {
        await client.connect();
        await client.db(database).dropDatabase();
      } catch {
        // best effort: a database left behind is named after the run
      } finally {
        await client.close().catch(() => {});
      }
    },
  });
}

/**
 * A replica set hactl starts, kills and watches. HACTL_MONGO_URL names a server hactl does not run,
 * even when it is a replica set: its members, its election timing and its failover are the user's
 * deployment, not this variant's, so a run with both is refused rather than measured against it.
 */
async function startReplicated(context: LocalStoreContext, replication: ReplicationOptions): Promise<RunningStore> {
  if (context.env.HACTL_MONGO_URL) {
    throw new EnvironmentError(
      `a replicated mongo variant runs ${1 + replication.replicas} mongod members that hactl starts and kills; HACTL_MONGO_URL (${redact(context.env.HACTL_MONGO_URL)}) names a deployment hactl does not run, so its failover cannot be caused or timed here: unset HACTL_MONGO_URL for this variant (with mongod on PATH), or use the mongo strategy (one node) with it`,
    );
  }
  const { binary, version } = await locateMongod(context.env);
  return startReplicaSet(context, { binary, version }, replication);
}

async function locateMongod(env: NodeJS.ProcessEnv): Promise<{ binary: string; version: string }> {
  const binary = await findExecutable('mongod', env.HACTL_MONGOD, env);
  if (!binary) throw new EnvironmentError('no mongod on PATH (or HACTL_MONGOD)');
  const version = /db version v(\S+)/.exec(await readOutput(binary, ['--version']))?.[1] ?? 'unknown version';
  return { binary, version };
}

async function startMongod(context: LocalStoreContext): Promise<RunningStore> {
  const { binary, version } = await locateMongod(context.env);
  const dbPath = path.join(context.runDir, 'mongo');
  await mkdir(dbPath, { recursive: true });
  const port = await freePort();
  const args = ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'];
  const url = `mongodb://127.0.0.1:${port}/hactl`;

  const launch = async () =>
    waitUntilReady(await context.supervisor.spawn('mongod', binary, args, { env: context.env }), () => probe(url).then(() => true, () => false), {
      what: `mongod on 127.0.0.1:${port}`,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      signal: context.signal,
    });
  // mongod flushes its journal on a clean shutdown; give it longer than the default.
  const server = await serverProcessNode(launch, 10_000);
  return oneNodeStore({ name: 'mongo', description: `mongod ${version} on 127.0.0.1:${port}, journaled`, address: nodeAddress(url), controls: server.controls, countEntries: () => countDocuments(url), stop: server.stop });
}

async function probe(url: string): Promise<void> {
  // Loaded when used: most runs never touch MongoDB, and its driver is slow to load.
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: PROBE_TIMEOUT_MS, connectTimeoutMS: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => {});
  }
}

/** Documents in every collection of the database the replicas are given (the URL's). */
async function countDocuments(url: string): Promise<number> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: PROBE_TIMEOUT_MS, connectTimeoutMS: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    const db = client.db();
    let documents = 0;
    for (const collection of await db.listCollections({}, { nameOnly: true }).toArray()) {
      if (collection.name.startsWith('system.')) continue;
      documents += await db.collection(collection.name).estimatedDocumentCount();
    }
    return documents;
  } finally {
    await client.close().catch(() => {});
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Credentials stay out of reports and error lines. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unparsable URL';
  }
}
