import { serveAdmin } from './admin.js';
import { readFaultProxySettings } from './settings.js';
import { startTcpProxy } from './tcp-proxy.js';

/** Past this, a stop that has not finished gives way to exiting anyway. */
const SHUTDOWN_LIMIT_MS = 2_000;

/**
 * The fault proxy as a process of its own, between the replicas and their store: a child of
 * hactl on the local runtime, a container (bundled as dist/bundle/fault-proxy.mjs) on the docker
 * one. Settings come from the environment (settings.ts), toxics over the admin API (admin.ts).
 */
async function main() {
  // Started by hactl with an IPC channel: when hactl goes away, so does the proxy, even while it
  // is still starting (hence before any await).
  let shutdown: () => void = () => process.exit(0);
  if (process.send) {
    if (!process.connected) process.exit(0);
    process.on('disconnect', () => shutdown());
  }
  process.on('SIGTERM', () => shutdown());
  process.on('SIGINT', () => shutdown());

  const settings = readFaultProxySettings(process.env);
  const proxy = await startTcpProxy({ ...settings.listen, upstream: settings.upstream });
  const admin = await serveAdmin(proxy, settings.admin).catch(async (error: unknown) => {
    await proxy.stop();
    throw error;
  });
  shutdown = () => {
    setTimeout(() => process.exit(0), SHUTDOWN_LIMIT_MS).unref();
    void Promise.allSettled([admin.close(), proxy.stop()]).finally(() => process.exit(0));
  };
  const { listen, upstream } = settings;
  console.log(
    `hactl fault proxy listening on ${listen.host}:${proxy.port} for ${upstream.host}:${upstream.port}, admin API on http://${settings.admin.host}:${admin.port}`,
  );
}

main().catch((error: unknown) => {
  console.error(`hactl fault proxy failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
