import { fileURLToPath } from 'node:url';
import { freePorts } from '../platform/ports.js';
import { waitUntilReady, type ProcessSupervisor } from '../platform/processes.js';
import { faultProxyControl, type FaultProxyControl } from './control.js';
import type { Endpoint } from './link.js';

const FAULT_PROXY_ENTRY = fileURLToPath(new URL('./standalone.js', import.meta.url));
const READY_TIMEOUT_MS = 10_000;

/** A fault proxy running as a child process of hactl on 127.0.0.1. */
export interface LocalFaultProxy {
  /** Where it listens. */
  host: string;
  port: number;
  control: FaultProxyControl;
  stop(): Promise<void>;
}

/**
 * Starts the standalone fault proxy (standalone.ts) in front of `upstream`, on its own event loop:
 * in hactl's, the driver's load would delay the traffic it forwards. It exits with hactl (IPC).
 * NODE_EXTRA_CA_CERTS is left out of its environment: it needs no CA, and it slows a Node start.
 */
export async function startLocalFaultProxy(
  supervisor: ProcessSupervisor,
  options: { upstream: Endpoint; env: NodeJS.ProcessEnv; name?: string; signal?: AbortSignal; /** Its listening and admin ports, when the caller took them with others (so none collide). */ ports?: [number, number] },
): Promise<LocalFaultProxy> {
  const [port, adminPort] = options.ports ?? (await freePorts(2));
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = options.env;
  const admin = `http://127.0.0.1:${adminPort}`;
  const control = faultProxyControl(admin);
  const what = `${options.name ?? 'fault proxy'} on 127.0.0.1:${port}`;
  const proxy = await waitUntilReady(
    await supervisor.spawn(options.name ?? 'fault proxy', process.execPath, [FAULT_PROXY_ENTRY], {
      env: {
        ...env,
        HACTL_FAULT_PROXY_LISTEN: `127.0.0.1:${port}`,
        HACTL_FAULT_PROXY_UPSTREAM: `${options.upstream.host}:${options.upstream.port}`,
        HACTL_FAULT_PROXY_ADMIN: `127.0.0.1:${adminPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
    () => control.ready(),
    { what, timeoutMs: READY_TIMEOUT_MS, intervalMs: 20, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return { host: '127.0.0.1', port: port!, control, stop: async () => void (await proxy.stop()) };
}
