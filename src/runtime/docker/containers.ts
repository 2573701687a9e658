import type Docker from 'dockerode';
import { EnvironmentError } from '../../platform/errors.js';
import { pollUntil } from '../../platform/time.js';
import { RUN_LABEL, type ContainerPlan, type NetworkMode } from '../../topology/containers.js';
import { engineCall, type Engine } from './engine.js';
import { OWNER_LABEL, owner } from './owner.js';

/** How long a signalled container may take to stop before it gets SIGKILL, as on the local runtime. */
const KILL_GRACE_MS = 5_000;
const STOP_WAIT_MS = 10_000;

/** A container hactl created, with the faults a scenario may inject through the engine. */
export interface ContainerHandle {
  id: string;
  name: string;
  plan: ContainerPlan;
  /** The host port at which hactl reaches each planned port. */
  hostPort(port: number): number;
  /** Signals the container and resolves once it has stopped; like a process, SIGKILL follows after a grace period. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts a stopped container again and resolves once the engine has it running. */
  start(): Promise<void>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  isRunning(): Promise<boolean>;
  /** Its address on the run's bridge network while it runs (a restart may change it); undefined on the host network. */
  networkAddress(): Promise<string | undefined>;
  logs(): Promise<string>;
  /** The tar archive of `path` in the container, through the engine (the image needs no tar); undefined when there is no such path. */
  getArchive(path: string): Promise<Buffer | undefined>;
  /** Extracts a tar archive into the directory `path` in the container, with the owners it names. */
  putArchive(path: string, tar: Buffer): Promise<void>;
  /** Removes it with its anonymous volumes; false if the engine would not. */
  remove(): Promise<boolean>;
}

export interface ContainerPlacement {
  runId: string;
  network: NetworkMode;
  /** The run's bridge network, when there is one. */
  networkName?: string;
  /** Bridge networks: the host port to publish each planned port on; absent, the engine picks. */
  publish?: number[];
  signal?: AbortSignal;
  /** Runs between the container's creation and its first start (files put into it, say). */
  beforeStart?: (handle: ContainerHandle) => Promise<void>;
}

export function containerName(runId: string, service: string): string {
  return `hactl-${runId}-${service}`;
}

export async function createContainer(engine: Engine, plan: ContainerPlan, placement: ContainerPlacement): Promise<ContainerHandle> {
  const { docker } = engine;
  const { signal } = placement;
  const name = containerName(placement.runId, plan.service);
  const bridge = placement.network === 'bridge';
  // A local engine publishes on loopback only; a remote one on its host, where hactl reaches it.
  const bindIp = engine.remote ? '0.0.0.0' : '127.0.0.1';
  const published = new Map(plan.ports.map((port, i) => [port, bridge ? placement.publish?.[i] : port]));
  const container: Docker.Container = await engineCall(
    `create container ${name} from ${plan.image}`,
    docker.createContainer({
      name,
      Image: plan.image,
      // No command: the image's own (a user's app image).
      ...(plan.command.length > 0 ? { Cmd: plan.command } : {}),
      Env: Object.entries(plan.env).map(([key, value]) => `${key}=${value}`),
      Labels: { [RUN_LABEL]: placement.runId, [`${RUN_LABEL}.role`]: plan.role, [`${RUN_LABEL}.service`]: plan.service, [OWNER_LABEL]: owner() },
      ...(plan.stopSignal ? { StopSignal: plan.stopSignal } : {}),
      ExposedPorts: Object.fromEntries(plan.ports.map((port) => [`${port}/tcp`, {}])),
      HostConfig: {
        NetworkMode: bridge ? placement.networkName : 'host',
        ...(bridge
          ? { PortBindings: Object.fromEntries(plan.ports.map((port) => [`${port}/tcp`, [{ HostIp: bindIp, HostPort: String(published.get(port) ?? '') }]])) }
          : {}),
      },
      ...(bridge && placement.networkName ? { NetworkingConfig: { EndpointsConfig: { [placement.networkName]: { Aliases: [plan.service] } } } } : {}),
    }),
    { signal },
  );

  const state = async () => (await engineCall(`inspect ${name}`, container.inspect(), { signal })).State;
  // Ports the engine picked (no publish list) are read back after every start: a restart may change them.
  const readPublished = async () => {
    if (!bridge) return;
    const ports = (await engineCall(`inspect ${name}`, container.inspect(), { signal })).NetworkSettings.Ports ?? {};
    for (const port of plan.ports) {
      const binding = ports[`${port}/tcp`]?.[0];
      if (binding?.HostPort) published.set(port, Number(binding.HostPort));
    }
  };
  const waitStopped = (timeoutMs: number) =>
    pollUntil(async () => ((await state()).Running ? undefined : true), {
      timeoutMs,
      intervalMs: 20,
      onTimeout: () => new EnvironmentError(`container ${name} was still running ${timeoutMs} ms after it was signalled`),
    });
  const send = async (sig: NodeJS.Signals) => {
    // The engine will not signal a paused container; a frozen process would not act on it anyway.
    if ((await state()).Paused) await engineCall(`unpause ${name}`, container.unpause(), { signal });
    await engineCall(`kill ${name}`, container.kill({ signal: sig }).catch(ignoreStatus(409)), { signal });
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
    async kill(sig) {
      await send(sig);
      if (sig === 'SIGKILL') return void (await waitStopped(STOP_WAIT_MS));
      const stopped = await waitStopped(KILL_GRACE_MS).then(() => true, () => false);
      if (!stopped) {
        await send('SIGKILL');
        await waitStopped(STOP_WAIT_MS);
      }
    },
    async start() {
      if ((await state()).Running) throw new EnvironmentError(`${plan.service} (container ${name}) is still running`);
      await engineCall(`start ${name}`, container.start(), { signal });
      await readPublished();
    },
    // Idempotent, as SIGSTOP and SIGCONT are on the local runtime.
    async pause() {
      if (!(await state()).Paused) await engineCall(`pause ${name}`, container.pause(), { signal });
    },
    async unpause() {
      if ((await state()).Paused) await engineCall(`unpause ${name}`, container.unpause(), { signal });
    },
    isRunning: async () => (await state()).Running,
    async networkAddress() {
      if (!bridge || !placement.networkName) return undefined;
      const networks = (await engineCall(`inspect ${name}`, container.inspect(), { signal })).NetworkSettings.Networks ?? {};
      return networks[placement.networkName]?.IPAddress || undefined;
    },
    async logs() {
      const raw = await engineCall(`logs of ${name}`, container.logs({ stdout: true, stderr: true, tail: 40, follow: false })).catch(() => Buffer.alloc(0));
      return demux(raw as unknown as Buffer).trim();
    },
    async getArchive(path) {
      const stream = await engineCall(`copy ${path} out of ${name}`, container.getArchive({ path }).catch(ignoreStatus(404)), { signal });
      if (!stream) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
    async putArchive(path, tar) {
      // copyUIDGID: the archive's owners, not root's (a server refuses a data directory it does not own).
      await engineCall(`copy files into ${path} of ${name}`, container.putArchive(tar, { path, copyUIDGID: true }), { signal });
    },
    async remove() {
      // Not bound to the run's abort signal: removal is what an aborted run still has to do.
      return engineCall(`remove ${name}`, container.remove({ force: true, v: true }).catch(ignoreStatus(404))).then(
        () => true,
        () => false,
      );
    },
  };
  try {
    await placement.beforeStart?.(handle);
    await engineCall(`start ${name}`, container.start(), { signal });
    await readPublished();
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
  options: { what: string; timeoutMs: number; signal?: AbortSignal; lastProbe?: () => string },
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
        onTimeout: () => new EnvironmentError(`${options.what} was not ready within ${options.timeoutMs} ms${options.lastProbe ? `; its health path last ${options.lastProbe()}` : ''}`),
      },
    );
  } catch (error) {
    const logs = error instanceof EnvironmentError && /not ready/.test(error.message) ? await handle.logs() : '';
    await handle.remove();
    throw logs ? new EnvironmentError(`${(error as Error).message}: ${logs}`) : error;
  }
}

/** An engine answer that means the operation's goal holds already (404: gone; 409: not running). */
function ignoreStatus(status: number) {
  return (error: { statusCode?: number }) => {
    if (error.statusCode !== status) throw error;
  };
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
