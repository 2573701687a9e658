import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { EnvironmentError, errorMessage } from '../../platform/errors.js';
import { withTimeout } from '../../platform/time.js';

const PING_TIMEOUT_MS = 5_000;
/** A short engine call (create, start, kill, inspect, list) that takes longer than this has hung. */
export const ENGINE_CALL_TIMEOUT_MS = 30_000;

export interface Engine {
  docker: Docker;
  /** Where the engine was found: DOCKER_HOST, or a socket. */
  address: string;
  /** The address at which ports published by this engine are reached from hactl. */
  publishHost: string;
  /** The engine runs on another machine (DOCKER_HOST=tcp://..., ssh://...). */
  remote: boolean;
}

/**
 * Connects to the engine DOCKER_HOST names (docker-modem also reads DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH, and speaks ssh://), or else the standard socket or Docker Desktop's, and
 * checks that it answers.
 */
export async function connectEngine(env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const dockerHost = env.DOCKER_HOST;
  let docker: Docker;
  let address: string;
  if (dockerHost) {
    address = dockerHost;
    try {
      docker = new Docker();
    } catch (error) {
      throw new EnvironmentError(`DOCKER_HOST=${dockerHost} is not an engine address hactl understands (${errorMessage(error)}); expected unix:///path/to/docker.sock, tcp://host:port or ssh://user@host`);
    }
  } else {
    const socket = defaultSockets(env).find((candidate) => existsSync(candidate)) ?? '/var/run/docker.sock';
    address = `unix://${socket}`;
    docker = new Docker({ socketPath: socket });
  }
  try {
    await withTimeout(docker.ping(), PING_TIMEOUT_MS, () => new Error(`no answer within ${PING_TIMEOUT_MS} ms`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const fix =
      code === 'EACCES'
        ? 'permission denied: add your user to the docker group (then log in again), run as root, or set DOCKER_HOST'
        : 'start it (dockerd, or Docker Desktop) or set DOCKER_HOST to a running engine';
    throw new EnvironmentError(`cannot reach the Docker engine at ${address} (${code ?? errorMessage(error)}): ${fix}`);
  }
  const remote = !address.startsWith('unix://') && !address.startsWith('npipe://');
  return { docker, address, publishHost: remote ? new URL(address).hostname : '127.0.0.1', remote };
}

/** The standard socket, then Docker Desktop's per-user sockets. */
function defaultSockets(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? os.homedir();
  return ['/var/run/docker.sock', path.join(home, '.docker', 'run', 'docker.sock'), path.join(home, '.docker', 'desktop', 'docker.sock')];
}

/**
 * An engine call, bounded in time and abortable: an engine that stops answering ends the wait
 * with an error naming the call instead of hanging the run.
 */
export async function engineCall<T>(what: string, call: Promise<T>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
  const { timeoutMs = ENGINE_CALL_TIMEOUT_MS, signal } = options;
  signal?.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await withTimeout(Promise.race([call, aborted]), timeoutMs, () => new EnvironmentError(`the Docker engine did not finish "${what}" within ${timeoutMs} ms`));
  } catch (error) {
    if (signal?.aborted || error instanceof EnvironmentError) throw error;
    throw new EnvironmentError(`${what}: ${errorMessage(error)}`);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
