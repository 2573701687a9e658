import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answers200 } from '../../src/runtime/http-probe.js';
import { freePorts } from '../../src/platform/ports.js';
import { pollUntil, sleep } from '../../src/platform/time.js';

const LAUNCH = fileURLToPath(new URL('../../fixtures/apps/php/launch.sh', import.meta.url));
const PATH = `${process.env.PATH}:/usr/local/sbin:/usr/sbin`;

export interface DeploymentOptions {
  replicas?: number;
  /** Redis persistence: none (as ElastiCache without it), or an append-only file fsynced on every write. */
  persistence?: 'none' | 'aof-always';
  /** The status the app answers when its store fails (401: it fails closed as "not logged in"). */
  storeDownStatus?: number;
}

/**
 * A deployment hactl did not build, as a platform team runs one: replicas of the PHP fixture app
 * (sessions in Redis through php-redis) behind a real nginx that retries a failed request on the
 * next upstream and names the upstream that answered in `X-Upstream: $upstream_addr`, and a real
 * Redis. Nothing of hactl's is in between. Its "platform" scripts act only on processes this
 * harness started, by the PID (and process group) each one recorded.
 */
export interface Deployment {
  dir: string;
  target: string;
  replicaIds: string[];
  /** Where each replica listens, by id (what nginx's $upstream_addr names). */
  addresses: Record<string, string>;
  redisPort: number;
  /** Shell commands for hactl's fault flags ({replica} is filled in by hactl). */
  commands: {
    killReplica: string;
    startReplica: string;
    /** Kills Redis; the platform starts it again on its own data `restartAfterMs` later. */
    killRedis(restartAfterMs: number): string;
  };
  /** Session reads each replica counted itself, by address. */
  readsCounted(): Promise<Record<string, number>>;
  resetCounts(): Promise<void>;
  /** Session keys in Redis. */
  sessionKeys(): string[];
  /** Removes every session from Redis (what a run stopped by Ctrl-C left there). */
  clearSessions(): void;
  replicaAnswers(id: string): Promise<boolean>;
  /** Waits until Redis answers PING (after a platform restart). */
  redisUp(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startDeployment(options: DeploymentOptions = {}): Promise<Deployment> {
  const count = options.replicas ?? 3;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-live-'));
  // nginx's workers run as nobody when it is started as root: they need to reach the temp paths.
  await chmod(dir, 0o755);
  const tmp = path.join(dir, 'nginx-tmp');
  await mkdir(tmp, { mode: 0o777 });
  await chmod(tmp, 0o777);
  const counts = path.join(dir, 'counts');
  await mkdir(counts);
  const [redisPort, nginxPort, ...replicaPorts] = await freePorts(2 + count);
  const replicaIds = Array.from({ length: count }, (_, i) => `replica-${i + 1}`);
  const addresses = Object.fromEntries(replicaIds.map((id, i) => [id, `127.0.0.1:${replicaPorts[i]}`]));

  const redisArgs = ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '""', '--dir', dir, '--daemonize', 'no'];
  redisArgs.push(...(options.persistence === 'aof-always' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  // Each process is started in a session of its own (setsid), so its PID is its process group:
  // the platform kills a replica's whole group (PHP's built-in server forks its workers).
  const startRedis = `setsid redis-server ${redisArgs.join(' ')} >>"${dir}/redis.log" 2>&1 </dev/null & echo $! >"${dir}/redis.pid"`;
  const script = (name: string, lines: string[]) => writeFile(path.join(dir, name), ['set -eu', ...lines].join('\n') + '\n');
  await script('start-redis.sh', [startRedis]);
  await script('kill-redis.sh', [
    'kill -s KILL "$(cat "' + dir + '/redis.pid")"',
    // The platform notices and starts it again, on its own data, a while later; the kill command returns at once.
    `setsid sh -c 'sleep "$1"; sh "${dir}/start-redis.sh"' sh "$1" >/dev/null 2>&1 </dev/null &`,
  ]);
  await script('start-replica.sh', [
    'n=${1#replica-}',
    `case $n in ${replicaPorts.map((port, i) => `${i + 1}) port=${port};;`).join(' ')} *) echo "no replica $1" >&2; exit 2;; esac`,
    `SESSION_IDLE_SECONDS=1800 SESSION_STORE_DOWN_STATUS=${options.storeDownStatus ?? 503} HACTL_PHP_COUNT_DIR="${counts}" PHP_CLI_SERVER_WORKERS=4 ` +
      `setsid sh "${LAUNCH}" "$port" "$1" 127.0.0.1 ${redisPort} >>"${dir}/$1.log" 2>&1 </dev/null &`,
    `echo $! >"${dir}/$1.pid"`,
  ]);
  await script('kill-replica.sh', ['kill -s "${2:-KILL}" -- "-$(cat "' + dir + '/$1.pid")"']);

  const env = { ...process.env, PATH };
  execFileSync('sh', [path.join(dir, 'start-redis.sh')], { env });
  for (const id of replicaIds) execFileSync('sh', [path.join(dir, 'start-replica.sh'), id], { env });

  await writeFile(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/nginx-error.log;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${tmp}/${kind};`),
      '  upstream app {',
      ...replicaPorts.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`),
      '  }',
      '  server {',
      `    listen 127.0.0.1:${nginxPort};`,
      '    location / {',
      '      proxy_pass http://app;',
      '      proxy_connect_timeout 1s;',
      // A failed attempt is retried on the next upstream, as nginx does by default for idempotent requests.
      '      proxy_next_upstream error timeout http_502;',
      '      add_header X-Upstream $upstream_addr always;',
      '    }',
      '  }',
      '}',
    ].join('\n') + '\n',
  );
  const nginx = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'nginx-error.log')], { stdio: 'ignore', env, detached: true });
  const target = `http://127.0.0.1:${nginxPort}`;

  const pidOf = async (name: string) => Number(await readFile(path.join(dir, `${name}.pid`), 'utf8'));
  const redisCli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(redisPort), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const deployment: Deployment = {
    dir,
    target,
    replicaIds,
    addresses,
    redisPort,
    commands: {
      killReplica: `sh ${dir}/kill-replica.sh {replica} {signal}`,
      startReplica: `sh ${dir}/start-replica.sh {replica}`,
      killRedis: (restartAfterMs) => `sh ${dir}/kill-redis.sh ${(restartAfterMs / 1000).toFixed(1)}`,
    },
    async readsCounted() {
      const result: Record<string, number> = {};
      for (const file of await readdir(counts)) result[addresses[file.replace(/\.reads$/, '')]!] = (await stat(path.join(counts, file))).size;
      return result;
    },
    async resetCounts() {
      for (const file of await readdir(counts)) await rm(path.join(counts, file), { force: true });
    },
    sessionKeys: () => redisCli('--scan', '--pattern', 'PHPREDIS_SESSION:*').split('\n').filter(Boolean),
    clearSessions: () => void redisCli('flushall'),
    replicaAnswers: (id) => answers200(`http://${addresses[id]}/health`),
    redisUp: async (timeoutMs) => {
      await pollUntil(
        async () => {
          try {
            return redisCli('ping') === 'PONG' || undefined;
          } catch {
            return undefined;
          }
        },
        { timeoutMs, intervalMs: 100, onTimeout: () => new Error(`Redis on ${redisPort} did not come back within ${timeoutMs} ms`) },
      );
    },
    async stop() {
      for (const file of (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.pid') && name !== 'nginx.pid')) {
        const pid = await pidOf(file.slice(0, -'.pid'.length)).catch(() => 0);
        if (pid > 0) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone already
            }
          }
        }
      }
      try {
        process.kill(-nginx.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
      // A platform restart still pending (kill-redis.sh's sleep) would start Redis after the
      // test: give it no directory to start in.
      await rm(dir, { recursive: true, force: true });
    },
  };

  // Ready once every replica answers directly and through nginx.
  try {
    await deployment.redisUp(10_000);
    for (const id of replicaIds) {
      await pollUntil(async () => (await deployment.replicaAnswers(id)) || undefined, { timeoutMs: 15_000, intervalMs: 100, onTimeout: () => new Error(`${id} did not come up: ${readLog(dir, id)}`) });
    }
    await pollUntil(async () => (await answers200(`${target}/health`)) || undefined, { timeoutMs: 10_000, intervalMs: 100, onTimeout: () => new Error(`nginx at ${target} did not come up`) });
  } catch (error) {
    await deployment.stop();
    throw error;
  }
  await sleep(0);
  return deployment;
}

function readLog(dir: string, name: string): string {
  try {
    return execFileSync('tail', ['-5', path.join(dir, `${name}.log`)], { encoding: 'utf8' });
  } catch {
    return '(no log)';
  }
}
