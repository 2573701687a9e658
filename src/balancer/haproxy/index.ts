import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, UsageError, errorMessage } from '../../platform/errors.js';
import { canConnect, freePort, freePorts } from '../../platform/ports.js';
import { waitUntilReady, type ExitInfo, type ProcessSupervisor, type Supervised } from '../../platform/processes.js';
import { findExecutable, readOutput } from '../../platform/executables.js';
import type { Availability } from '../../stores/store.js';
import { settleWithin, sleep } from '../../platform/time.js';
import { HealthTracker } from '../health-tracker.js';
import type { Balancer, DrainResult } from '../index.js';
import { httpOrigin, type BalancerSettings } from '../settings.js';
import { haproxyAdmin, type HaproxyAdmin, type ServerStat } from './admin.js';
import { haproxyConfig, validateHaproxySettings } from './config.js';

export { haproxyConfig, HAPROXY_BACKEND, HAPROXY_FRONTEND, validateHaproxySettings, type AdminAddress } from './config.js';
export { haproxyAdmin, parseServerStats, type HaproxyAdmin, type ServerStat, type ServerState, type AdminState } from './admin.js';

export interface HaproxyOptions {
  supervisor: ProcessSupervisor;
  /** The run's own directory; the config goes in a subdirectory of it. */
  runDir: string;
  signal?: AbortSignal;
  /** Where to look for haproxy (PATH, HACTL_HAPROXY) and the environment it runs with; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/** A Balancer that is a real HAProxy, with its runtime API for tests and reports. */
export interface HaproxyBalancer extends Balancer {
  admin: HaproxyAdmin;
}

/** An HAProxy that is a child process of hactl. */
export interface LocalHaproxyBalancer extends HaproxyBalancer {
  configFile: string;
  process: Supervised;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
/** The runtime API answers within milliseconds even under load; this long without an answer means HAProxy is stuck. */
const ADMIN_SILENCE_LIMIT_MS = 10_000;
const DRAIN_POLL_MS = 25;
/** http-after-response and `http-check expect status` with lists and ranges came with 2.2. */
const MIN_VERSION: readonly [number, number] = [2, 2];
const INSTALL_FIX =
  'install it (Debian/Ubuntu: apt-get install -y haproxy, which puts it in /usr/sbin: add that to PATH if it is not there; macOS: brew install haproxy) or set HACTL_HAPROXY=/path/to/haproxy';

/** HACTL_HAPROXY if set (it must be executable), else haproxy on PATH. */
export async function locateHaproxy(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return findExecutable('haproxy', env.HACTL_HAPROXY, env);
}

function notFound(env: NodeJS.ProcessEnv): string {
  return env.HACTL_HAPROXY ? `HACTL_HAPROXY=${env.HACTL_HAPROXY} is not an executable file` : 'haproxy was not found on PATH';
}

/** Whether `--balancer haproxy` can run here, and if not, what to do about it. */
export async function haproxyAvailability(env: NodeJS.ProcessEnv = process.env): Promise<Availability> {
  const binary = await locateHaproxy(env);
  if (!binary) return { available: false, reason: notFound(env), fix: INSTALL_FIX };
  const version = /HA-?Proxy version (\d+)\.(\d+)(\S*)/i.exec(await readOutput(binary, ['-v']));
  if (!version) return { available: false, reason: `${binary} -v did not print an HAProxy version`, fix: INSTALL_FIX };
  const [major, minor] = [Number(version[1]), Number(version[2])];
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    return { available: false, reason: `${binary} is HAProxy ${major}.${minor}; hactl needs ${MIN_VERSION.join('.')} or later`, fix: INSTALL_FIX };
  }
  return { available: true, detail: `${binary} (HAProxy ${major}.${minor}${version[3]})` };
}

/**
 * A real HAProxy in place of hactl's balancer, as a child process: the config from config.ts,
 * then attachHaproxy() for health and (de)registration through the runtime API.
 */
export async function startHaproxyBalancer(settings: BalancerSettings, options: HaproxyOptions): Promise<LocalHaproxyBalancer> {
  const env = options.env ?? process.env;
  const binary = await locateHaproxy(env);
  if (!binary) throw new EnvironmentError(`--balancer haproxy: ${notFound(env)}; ${INSTALL_FIX}`);

  const adminHost = '127.0.0.1';
  const [port, adminPort] = await listenPorts(settings, adminHost);
  const resolved = { ...settings, port };
  const problem = validateHaproxySettings(resolved);
  if (problem) throw new UsageError(`--balancer haproxy: ${problem}`);

  const dir = await mkdtemp(path.join(options.runDir, 'haproxy-'));
  const configFile = path.join(dir, 'haproxy.cfg');
  await writeFile(configFile, haproxyConfig(resolved, { host: adminHost, port: adminPort }));
  const admin = haproxyAdmin({ host: adminHost, port: adminPort });
  const what = `haproxy on ${settings.host}:${port}`;

  // -db: stay in the foreground, so the supervisor tracks HAProxy itself and sees it exit.
  const handle = await options.supervisor.spawn('haproxy', binary, ['-f', configFile, '-db'], { env });
  try {
    await waitUntilReady(
      handle,
      async () => (await canConnect(probeHost(settings.host), port)) && (await admin.showServers().then(() => true, () => false)),
      { what, timeoutMs: START_TIMEOUT_MS, intervalMs: 20, signal: options.signal },
    );
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const why = handle.hasExited() ? `exited during start-up: ${complaint(handle.output())}` : `was not ready within ${START_TIMEOUT_MS} ms: ${complaint(handle.output())}`;
    throw new EnvironmentError(`${what} ${why} (config: ${configFile})`);
  }

  const exitReason = (info: ExitInfo) => {
    const how = info.signal ? `signal ${info.signal}` : `code ${info.code}`;
    const said = complaint(handle.output());
    return `${what} exited unexpectedly (${how})${said === 'no output' ? '' : `: ${said}`}`;
  };
  const balancer = await attachHaproxy(settings, {
    url: httpOrigin(settings.host, port),
    what,
    admin,
    exited: handle.exited.then(exitReason),
    hasExited: () => handle.hasExited(),
    stop: async () => void (await handle.stop(STOP_GRACE_MS).catch(() => undefined)),
  });
  // Its targets are on this machine: the run can measure what HAProxy adds over reaching them directly.
  return { ...balancer, directTargets: settings.targets, configFile, process: handle };
}

/** An HAProxy that is up, running haproxyConfig(settings, ...), wherever it runs (a child process, a container). */
export interface RunningHaproxy {
  /** Where clients reach its frontend. */
  url: string;
  /** How it is named in errors: "haproxy on 127.0.0.1:8080". */
  what: string;
  /** Its runtime API, as reachable from hactl. */
  admin: HaproxyAdmin;
  /** Resolves, with why, once HAProxy has exited. */
  exited: Promise<string>;
  hasExited(): boolean;
  /** Stops it, bounded. */
  stop(): Promise<void>;
}

/**
 * hactl's Balancer over a running HAProxy: sets the servers' initial health, feeds a
 * HealthTracker from `show stat`, reports HAProxy's death as the balancer's failure, and does
 * ALB's deregistration and registration with `set server`. Stops HAProxy if it cannot set up.
 */
export async function attachHaproxy(settings: BalancerSettings, running: RunningHaproxy): Promise<HaproxyBalancer> {
  const { admin, what } = running;
  const initial = settings.initialTargetHealth ?? 'healthy';
  try {
    // HAProxy starts a server up with a single failed check to spare; hactl's targets start either
    // fully healthy (it vouched for them) or in ALB's initial state, out of rotation until `rise` checks pass.
    await admin.apply(settings.targets.map((target) => ({ server: target.id, health: initial === 'healthy' ? 'up' : 'down' })));
  } catch (error) {
    await running.stop();
    throw new EnvironmentError(`${what} did not take its initial server states: ${errorMessage(error)}`);
  }

  const ids = settings.targets.map((target) => target.id);
  const health = new HealthTracker(ids, Date.now(), initial === 'healthy');
  let stopping = false;
  void running.exited.then((reason) => {
    if (!stopping) health.fail(reason);
  });

  /** Targets taken out by deregister(): the tracker holds them unhealthy whatever `show stat` says until register(). */
  const deregistered = new Set<string>();
  /** Bumped whenever hactl changes a server, so a `show stat` asked before the change does not count after it. */
  let epoch = 0;
  const drains = new Map<string, { promise: Promise<DrainResult>; end: () => void }>();

  const poller = pollHealth(admin, settings, {
    apply(stats, askedAt) {
      if (askedAt !== epoch) return;
      for (const stat of stats) {
        if (!ids.includes(stat.server) || deregistered.has(stat.server)) continue;
        const healthy = isHealthy(stat);
        if (health.isHealthy(stat.server) !== healthy) health.apply({ targetId: stat.server, healthy, at: Date.now() });
      }
    },
    epoch: () => epoch,
    silent(reason) {
      if (!stopping && !running.hasExited()) health.fail(reason);
    },
    stopped: () => stopping || running.hasExited() || health.failure() !== undefined,
  });

  const find = (targetId: string) => {
    if (!ids.includes(targetId)) throw new EnvironmentError(`${what} has no server named ${targetId} (servers: ${ids.join(', ')})`);
    return targetId;
  };
  const markOut = (targetId: string) => {
    if (health.isHealthy(targetId)) health.apply({ targetId, healthy: false, at: Date.now() });
  };

  /**
   * ALB deregistration as `state maint` at once: no new request, pinned or not, and requests in
   * flight run to their end (HAProxy's `drain` would still take cookie- and table-pinned
   * clients, which ALB never sends to a deregistered target). Then wait until the server's
   * current and queued requests are done, or the deregistration delay runs out.
   */
  function deregister(targetId: string): Promise<DrainResult> {
    find(targetId);
    const pending = drains.get(targetId);
    if (pending) return pending.promise;
    if (deregistered.has(targetId)) return Promise.resolve({ drainedMs: 0, abandoned: 0 });
    deregistered.add(targetId);
    epoch++;
    markOut(targetId);
    const startedAt = performance.now();
    let ended = false;
    const promise = (async (): Promise<DrainResult> => {
      try {
        await admin.setState(targetId, 'maint');
      } catch (error) {
        deregistered.delete(targetId);
        epoch++;
        throw error;
      }
      const deadline = startedAt + settings.deregistrationDelayMs;
      for (;;) {
        const inFlight = await requestsOn(admin, targetId);
        const drainedMs = performance.now() - startedAt;
        if (inFlight === 0) return { drainedMs, abandoned: 0 };
        if (ended || performance.now() >= deadline) return { drainedMs, abandoned: inFlight };
        await sleep(Math.max(1, Math.min(DRAIN_POLL_MS, deadline - performance.now())));
      }
    })().finally(() => drains.delete(targetId));
    drains.set(targetId, { promise, end: () => (ended = true) });
    return promise;
  }

  /**
   * ALB registration: the server comes back out of rotation and serves once `rise` checks pass.
   * Straight from maint to ready HAProxy would put it up at once, so it goes through drain
   * (checks resume, no new clients), is forced down, then made ready, on one command line.
   */
  async function register(targetId: string): Promise<void> {
    find(targetId);
    if (!deregistered.has(targetId)) return;
    const drain = drains.get(targetId);
    if (drain) {
      drain.end();
      await drain.promise.catch(() => undefined);
    }
    epoch++;
    await admin.apply([
      { server: targetId, state: 'drain' },
      { server: targetId, health: 'down' },
      { server: targetId, state: 'ready' },
    ]);
    deregistered.delete(targetId);
    epoch++;
    markOut(targetId);
  }

  return {
    url: running.url,
    admin,
    isHealthy: (targetId) => health.isHealthy(targetId),
    waitForHealth: (targetId, healthy, timeoutMs, signal) => health.waitForHealth(targetId, healthy, timeoutMs, signal),
    healthChanges: (since) => health.history(since),
    failure: () => health.failure(),
    deregister,
    register,
    async stop() {
      stopping = true;
      for (const drain of drains.values()) drain.end();
      poller.stop();
      await running.stop();
    },
  };
}

/**
 * Health as the checks say: UP (even "UP 1/2", one failed check short of the threshold), NOLB
 * and DRAIN pass their checks; DOWN (even "DOWN 1/2", on its way back) and MAINT do not serve.
 */
export function isHealthy(stat: Pick<ServerStat, 'state'>): boolean {
  return stat.state === 'UP' || stat.state === 'NOLB' || stat.state === 'DRAIN' || stat.state === 'NO CHECK';
}

/** What HAProxy said that matters, on one line: its ALERT lines (a port in use, a bad config line), else its last line. */
function complaint(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const alerts = lines.filter((line) => line.startsWith('[ALERT]'));
  const chosen = alerts.length > 0 ? alerts : lines.slice(-1);
  return chosen.map((line) => line.replace(/^\[ALERT\]\s*(\(\d+\)\s*:\s*)?/, '')).join(' ') || 'no output';
}

async function requestsOn(admin: HaproxyAdmin, server: string): Promise<number> {
  const stat = (await admin.showServers()).find((candidate) => candidate.server === server);
  if (!stat) throw new EnvironmentError(`haproxy's show stat has no server ${server}`);
  return stat.current + stat.queued;
}

async function listenPorts(settings: BalancerSettings, adminHost: string): Promise<[number, number]> {
  if (settings.port !== 0) return [settings.port, await freePort(adminHost)];
  if (settings.host === adminHost) {
    const [port, adminPort] = await freePorts(2, adminHost);
    return [port!, adminPort!];
  }
  return [await freePort(settings.host), await freePort(adminHost)];
}

/** Where to knock to see whether the frontend listens: a wildcard bind answers on loopback. */
function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

interface PollTarget {
  apply(stats: ServerStat[], askedAt: number): void;
  epoch(): number;
  silent(reason: string): void;
  stopped(): boolean;
}

/**
 * Reads `show stat` a few times per health-check interval, so a state change reaches hactl well
 * within one interval of HAProxy deciding it; each call is bounded by the admin client.
 */
function pollHealth(admin: HaproxyAdmin, settings: BalancerSettings, target: PollTarget) {
  const everyMs = Math.max(10, Math.min(100, Math.floor(settings.healthCheck.intervalMs / 2)));
  let lastAnswer = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = async () => {
    const askedAt = target.epoch();
    const answer = await settleWithin(
      admin.showServers().catch((error: unknown) => errorMessage(error)),
      ADMIN_SILENCE_LIMIT_MS,
      'no answer',
    );
    if (stopped || target.stopped()) return;
    if (typeof answer === 'string') {
      if (Date.now() - lastAnswer > ADMIN_SILENCE_LIMIT_MS) target.silent(`haproxy's runtime API on ${admin.address.host}:${admin.address.port} has not answered for ${ADMIN_SILENCE_LIMIT_MS} ms: ${answer}`);
    } else {
      lastAnswer = Date.now();
      target.apply(answer, askedAt);
    }
    if (!stopped && !target.stopped()) timer = setTimeout(() => void poll(), everyMs);
  };
  timer = setTimeout(() => void poll(), everyMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
