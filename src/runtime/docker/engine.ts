import Docker from 'dockerode';
import { EnvironmentError, errorMessage } from '../../errors.js';
import { withTimeout } from '../../time.js';

const PING_TIMEOUT_MS = 5_000;

/** Every container, network and image hactl makes carries this label; `hactl down` finds them by it. */
export const RUN_LABEL = 'io.hactl.run';

export interface Engine {
  docker: Docker;
  /** Where the engine was looked for: DOCKER_HOST, or the default socket. */
  address: string;
  /** The address at which ports published by this engine are reached from hactl. */
  publishHost: string;
}

/** Connects to the engine DOCKER_HOST names (or the default socket) and checks that it answers. */
export async function connectEngine(env: NodeJS.ProcessEnv): Promise<Engine> {
  const address = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  let docker: Docker;
  try {
    docker = new Docker(dockerOptions(address));
  } catch (error) {
    throw new EnvironmentError(`DOCKER_HOST=${address} is not an engine address hactl understands (${errorMessage(error)}); expected unix:///path/to/docker.sock or tcp://host:port`);
  }
  try {
    await withTimeout(docker.ping(), PING_TIMEOUT_MS, () => new Error(`no answer within ${PING_TIMEOUT_MS} ms`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EnvironmentError(
      `cannot reach the Docker engine at ${address} (${code ?? errorMessage(error)}): start it (dockerd, or Docker Desktop) or set DOCKER_HOST to a running engine`,
    );
  }
  return { docker, address, publishHost: publishHostOf(address) };
}

function dockerOptions(address: string): Docker.DockerOptions {
  const url = new URL(address);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
  }
  throw new Error(`unsupported scheme ${url.protocol}`);
}

/** A local engine publishes on this machine; a remote one (tcp://host) on its own host. */
function publishHostOf(address: string): string {
  const url = new URL(address);
  return url.protocol === 'unix:' ? '127.0.0.1' : url.hostname;
}
