import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { errorMessage } from '../../platform/errors.js';
import { RUN_LABEL } from '../../topology/containers.js';
import { OWNER_LABEL, owner } from './owner.js';
import { containerName } from './containers.js';
import { engineCall, type Engine } from './engine.js';

/** The role label of a run's reaper, by which a start-up tells a live run from one that is gone. */
export const REAPER_ROLE = 'reaper';

/**
 * What the reaper container runs (`node -e`): it waits on its standard input, which is hactl's
 * attached connection to it through the engine; when that connection drops (hactl exited,
 * however: SIGKILL included), the engine closes the input (StdinOnce) and the script removes
 * every container and network of the run but itself, then exits (AutoRemove takes it away). It
 * talks to the engine through the mounted socket with Node's own http, so it needs no package:
 * any image with `node` runs it. Rounds repeat until one finds nothing, for a container a dying
 * hactl had asked for that the engine created after the first listing; bounded to five.
 */
export const REAPER_SCRIPT = `
const http = require('node:http');
const self = require('node:os').hostname();
const filters = encodeURIComponent(JSON.stringify({ label: [${JSON.stringify(RUN_LABEL)} + '=' + process.env.HACTL_REAPER_RUN] }));
const api = (method, path) => new Promise((resolve) => {
  const req = http.request({ socketPath: '/var/run/docker.sock', method, path, timeout: 30000 }, (res) => {
    let body = '';
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => resolve({ status: res.statusCode, body }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (error) => resolve({ status: 0, body: String(error) }));
  req.end();
});
const list = async (path) => { const { status, body } = await api('GET', path); return status === 200 ? JSON.parse(body) : []; };
let reaping = false;
async function reap() {
  if (reaping) return;
  reaping = true;
  for (let round = 0; round < 5; round++) {
    const containers = (await list('/containers/json?all=1&filters=' + filters)).filter((c) => !c.Id.startsWith(self));
    await Promise.all(containers.map((c) => api('DELETE', '/containers/' + c.Id + '?force=1&v=1')));
    const networks = await list('/networks?filters=' + filters);
    await Promise.all(networks.map((n) => api('DELETE', '/networks/' + n.Id)));
    console.log('reaped ' + containers.length + ' containers, ' + networks.length + ' networks');
    if (containers.length + networks.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  process.exit(0);
}
process.stdin.on('data', () => {});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
console.log('reaper of run ' + process.env.HACTL_REAPER_RUN + ' ready');
`;

/** hactl's side of its reaper: close() ends it without reaping (hactl has removed everything itself). */
export interface Reaper {
  name: string;
  close(): Promise<void>;
}

/**
 * Starts the run's reaper from `image` (any image with `node`) and holds its input open, as
 * Testcontainers holds its connection to Ryuk. Created, attached, then started: a reaper that
 * ran before hactl was attached would wait on an input no one holds.
 */
export async function startReaper(engine: Engine, runId: string, image: string, signal?: AbortSignal): Promise<Reaper> {
  const { docker } = engine;
  const name = containerName(runId, REAPER_ROLE);
  const container: Docker.Container = await engineCall(
    `create container ${name} from ${image}`,
    docker.createContainer({
      name,
      Image: image,
      Entrypoint: ['node'],
      Cmd: ['-e', REAPER_SCRIPT],
      Env: [`HACTL_REAPER_RUN=${runId}`],
      Labels: { [RUN_LABEL]: runId, [`${RUN_LABEL}.role`]: REAPER_ROLE, [`${RUN_LABEL}.service`]: REAPER_ROLE, [OWNER_LABEL]: owner() },
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      HostConfig: { AutoRemove: true, NetworkMode: 'none', Binds: [`${socketOnEngine(engine)}:/var/run/docker.sock`] },
    }),
    { signal },
  );
  const remove = () => engineCall(`remove ${name}`, container.remove({ force: true })).catch(() => undefined);
  let input: Duplex;
  try {
    input = (await engineCall(`attach to ${name}`, container.attach({ stream: true, stdin: true, stdout: false, stderr: false, hijack: true }), { signal })) as Duplex;
    // A dropped connection is the reaper's signal, never an error of hactl's.
    input.on('error', () => undefined);
    await engineCall(`start ${name}`, container.start(), { signal });
  } catch (error) {
    await remove();
    throw new Error(`the run's reaper did not start: ${errorMessage(error)}`);
  }
  // hactl's own exit must not wait on this connection, nor its teardown on the reaper.
  (input as Duplex & { unref?: () => void }).unref?.();
  (input as unknown as { socket?: { unref(): void } }).socket?.unref();
  return {
    name,
    async close() {
      // Removed first, then disconnected: a closed input first would set it reaping.
      await remove();
      input.destroy();
    },
  };
}

/** The engine's socket as a path on the engine's machine: a local engine's own, else the standard one. */
function socketOnEngine(engine: Engine): string {
  return engine.address.startsWith('unix://') ? engine.address.slice('unix://'.length) : '/var/run/docker.sock';
}
