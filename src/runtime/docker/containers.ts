import type Docker from 'dockerode';
import { EnvironmentError, errorMessage } from '../../errors.js';
import { pollUntil, withTimeout } from '../../time.js';
import type { ContainerPlan, NetworkMode } from '../../topology/containers.js';
import { RUN_LABEL, type Engine } from './engine.js';

const STOP_WAIT_MS = 10_000;

/** A container hactl created, with the faults a scenario may inject through the engine. */
export interface ContainerHandle {
  id: string;
  name: string;
  plan: ContainerPlan;
  /** The host port at which hactl reaches each planned port. */
  hostPort(port: number): number;
  /** Sends a signal; for SIGKILL, resolves once the container has stopped. */
  kill(signal: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  isRunning(): Promise<boolean>;
  logs(): Promise<string>;
  remove(): Promise<void>;
}

export interface ContainerPlacement {
  runId: string;
  network: NetworkMode;
  /** The run's bridge network, when there is one. */
  networkName?: string;
  /** Bridge networks: the host port to publish each planned port on (stable across restarts). */
  publish?: number[];
}

export function containerName(runId: string, service: string): string {
  return `hactl-${runId}-${service}`;
}

export async function createContainer(engine: Engine, plan: ContainerPlan, placement: ContainerPlacement): Promise<ContainerHandle> {
  const { docker } = engine;
  const name = containerName(placement.runId, plan.service);
  const bridge = placement.network === 'bridge';
  // A local engine publishes on loopback only; a remote one on its host, where hactl reaches it.
  const bindIp = engine.publishHost === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0';
  const published = new Map(plan.ports.map((port, i) => [port, bridge ? placement.publish?.[i] : port]));
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name,
      Image: plan.image,
      Cmd: plan.command,
      Env: Object.entries(plan.env).map(([key, value]) => `${key}=${value}`),
      Labels: { [RUN_LABEL]: placement.runId, [`${RUN_LABEL}.role`]: plan.role, [`${RUN_LABEL}.service`]: plan.service },
      ...(plan.stopSignal ? { StopSignal: plan.stopSignal } : {}),
      ExposedPorts: Object.fromEntries(plan.ports.map((port) => [`${port}/tcp`, {}])),
      HostConfig: {
        NetworkMode: bridge ? placement.networkName : 'host',
        ...(bridge
          ? { PortBindings: Object.fromEntries(plan.ports.map((port) => [`${port}/tcp`, [{ HostIp: bindIp, HostPort: String(published.get(port) ?? '') }]])) }
          : {}),
      },
      ...(bridge && placement.networkName ? { NetworkingConfig: { EndpointsConfig: { [placement.networkName]: { Aliases: [plan.service] } } } } : {}),
    });
  } catch (error) {
    throw new EnvironmentError(`could not create container ${name} from ${plan.image}: ${errorMessage(error)}`);
  }

  const readPublished = async () => {
    if (!bridge) return;
    const ports = (await container.inspect()).NetworkSettings.Ports ?? {};
    for (const port of plan.ports) {
      const binding = ports[`${port}/tcp`]?.[0];
      if (binding?.HostPort) published.set(port, Number(binding.HostPort));
    }
  };
  const start = async () => {
    try {
      await container.start();
    } catch (error) {
      throw new EnvironmentError(`could not start container ${name}: ${errorMessage(error)}`);
    }
    await readPublished();
  };
  const handle: ContainerHandle = {
    id: container.id,
    name,
    plan,
    hostPort(port) {
      const host = published.get(port);
      if (host === undefined) throw new Error(`${name} publishes no port ${port}`);
      return host;
    },
    async kill(signal) {
      await container.kill({ signal }).catch(ignoreNotRunning);
      if (signal !== 'SIGKILL') return;
      await pollUntil(async () => ((await handle.isRunning()) ? undefined : true), {
        timeoutMs: STOP_WAIT_MS,
        intervalMs: 20,
        onTimeout: () => new EnvironmentError(`container ${name} was still running ${STOP_WAIT_MS} ms after SIGKILL`),
      });
    },
    start,
    pause: () => container.pause(),
    unpause: () => container.unpause(),
    isRunning: async () => (await container.inspect()).State.Running,
    async logs() {
      const raw = (await container.logs({ stdout: true, stderr: true, tail: 40, follow: false }).catch(() => Buffer.alloc(0))) as unknown as Buffer;
      return demux(raw).trim();
    },
    async remove() {
      await withTimeout(container.remove({ force: true, v: true }), STOP_WAIT_MS, () => new Error('timeout')).catch(() => undefined);
    },
  };
  try {
    await start();
  } catch (error) {
    await handle.remove();
    throw error;
  }
  return handle;
}

/**
 * Polls `probe` until the service in the container answers. Fails at once, with the container's
 * last log lines, if it stops; a container that never became ready is removed before the error
 * is thrown.
 */
export async function waitForContainer(
  handle: ContainerHandle,
  probe: () => Promise<boolean>,
  options: { what: string; timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  try {
    await pollUntil(
      async () => {
        if (await probe()) return true;
        if (!(await handle.isRunning())) throw new EnvironmentError(`${options.what} stopped during start-up: ${(await handle.logs()) || 'no output'}`);
        return undefined;
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 50,
        signal: options.signal,
        onTimeout: () => new EnvironmentError(`${options.what} was not ready within ${options.timeoutMs} ms`),
      },
    );
  } catch (error) {
    const logs = error instanceof EnvironmentError && /not ready/.test(error.message) ? await handle.logs() : '';
    await handle.remove();
    throw logs ? new EnvironmentError(`${(error as Error).message}: ${logs}`) : error;
  }
}

function ignoreNotRunning(error: { statusCode?: number }): void {
  // 409: the container is not running, which is what a kill wants anyway.
  if (error.statusCode !== 409) throw error;
}

/** Docker multiplexes stdout and stderr of a container without a TTY behind 8-byte headers. */
function demux(raw: Buffer): string {
  let text = '';
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(offset + 4);
    text += raw.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
  }
  return text || raw.toString('utf8');
}
