import net from 'node:net';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { freePort } from '../platform/ports.js';
import { waitUntilReady } from '../platform/processes.js';
import { findExecutable, readOutput } from '../platform/executables.js';
import { serverProcessNode } from './server-process.js';
import { replicatedNodes, startReplicatedRedis } from './redis-replication.js';
import { sentinelNodes, startSentinelRedis } from './redis-sentinel.js';
import type { RedisPersistence } from '../strategies.js';
import { nodeAddress, ONE_NODE, oneNodeStore, type LocalStoreContext, type RunningStore, type StoreModule, type StoreOptions } from './store.js';

const READY_TIMEOUT_MS = 10_000;
/** redis.conf's persistence settings per variant; `none` is ElastiCache's default for a session cache. */
const PERSISTENCE_ARGS: Record<RedisPersistence, string[]> = {
  none: ['--appendonly', 'no'],
  'aof-everysec': ['--appendonly', 'yes', '--appendfsync', 'everysec'],
  'aof-always': ['--appendonly', 'yes', '--appendfsync', 'always'],
};

function describe(options: StoreOptions): string {
  const persistence = options.persistence ?? 'none';
  return persistence === 'none' ? 'persistence off' : `append-only file, appendfsync ${persistence.slice('aof-'.length)}`;
}

async function locate(env: NodeJS.ProcessEnv) {
  return findExecutable('redis-server', env.HACTL_REDIS_SERVER, env);
}

/** Redis as ElastiCache runs it for sessions: in memory, persistence off unless asked for. */
export const redis: StoreModule = {
  name: 'redis',
  appStore: 'redis',
  nodes: (options) => (options.replication ? (options.replication.decidedBy === 'sentinel' ? sentinelNodes : replicatedNodes)(options.replication) : ONE_NODE),
  local: {
    async check(env) {
      const binary = await locate(env);
      if (!binary) {
        return {
          available: false,
          reason: env.HACTL_REDIS_SERVER
            ? `HACTL_REDIS_SERVER=${env.HACTL_REDIS_SERVER} is not an executable file`
            : 'redis-server was not found on PATH',
          fix: 'install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set HACTL_REDIS_SERVER=/path/to/redis-server',
        };
      }
      return { available: true, detail: binary };
    },
    start: startLocal,
  },
  docker: {
    image: { key: 'redis', default: 'redis:7' },
    replicatedByHactl: true,
    replicatedByItself: true,
    port: 6379,
    container: ({ host, port }, options) => ({ command: ['redis-server', ...serverArgs(host, port, options)], env: {} }),
    url: (host, port) => `redis://${host}:${port}`,
    probe: ping,
    settings: describe,
  },
  countEntries: (url) => {
    const parsed = new URL(url);
    return dbsize(parsed.hostname.replace(/^\[|\]$/g, ''), Number(parsed.port || 6379));
  },
  urlField: 'redisUrl',
};

async function startLocal(context: LocalStoreContext, options: StoreOptions): Promise<RunningStore> {
  const binary = (await locate(context.env))!;
  const version = /v=(\S+)/.exec(await readOutput(binary, ['--version']))?.[1] ?? 'unknown version';
  if (options.replication) {
    const server = { binary, version, args: (port: number) => serverArgs('127.0.0.1', port, options), ping };
    return (options.replication.decidedBy === 'sentinel' ? startSentinelRedis : startReplicatedRedis)(context, server, options.replication);
  }
  const dir = path.join(context.runDir, 'redis');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const args = [...serverArgs('127.0.0.1', port, options), '--dir', dir, '--daemonize', 'no'];

  const launch = async () =>
    waitUntilReady(await context.supervisor.spawn('redis-server', binary, args, { env: context.env }), () => ping('127.0.0.1', port), {
      what: `redis-server on 127.0.0.1:${port}`,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 20,
      signal: context.signal,
    });
  const server = await serverProcessNode(launch);
  return oneNodeStore({
    name: 'redis',
    description: `redis-server ${version} on 127.0.0.1:${port}, ${describe(options)}`,
    address: nodeAddress(`redis://127.0.0.1:${port}`),
    controls: server.controls,
    countEntries: () => dbsize('127.0.0.1', port),
    stop: server.stop,
  });
}


/**
 * No RDB snapshots, so that only the variant's append-only file (if any) decides what survives a
 * restart. Protected mode off: on a container network, replicas connect from other addresses.
 */
function serverArgs(host: string, port: number, options: StoreOptions): string[] {
  return ['--port', String(port), '--bind', host, '--protected-mode', 'no', '--save', '', ...PERSISTENCE_ARGS[options.persistence ?? 'none']];
}

/**
 * Keys in the server's every database (INFO keyspace): an app may keep its sessions in a
 * database other than 0. Over a raw socket, as the PING below.
 */
function dbsize(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = '';
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`redis on ${host}:${port} did not say how many keys it holds: ${why}`));
    };
    socket.setTimeout(2_000, () => fail('no answer within 2 s'));
    socket.once('error', (error) => fail(error.message));
    socket.once('connect', () => socket.write('INFO keyspace\r\n'));
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      // A bulk string: $<length>\r\n<body>\r\n
      const header = /^\$(\d+)\r\n/.exec(answer);
      if (answer.startsWith('-')) return fail(answer.trim());
      if (!header || Buffer.byteLength(answer, 'latin1') < header[0].length + Number(header[1])) return;
      socket.destroy();
      resolve([...answer.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0));
    });
  });
}

/** One RESP PING over a raw socket: cheaper than loading a client to ask "are you up?". */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    // A proxy in front of a server that is not up yet (docker-proxy) accepts, then hangs up.
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
