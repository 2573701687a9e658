import { createAdmin } from './admin.js';
import { startProxy } from './proxy.js';
import { parseBalancerSettings } from './messages.js';

/**
 * hactl's balancer as a process of its own, for containers: the docker runtime's
 * `--docker-balancer container` and the compose files. Settings come as JSON in
 * HACTL_BALANCER_CONFIG. With HACTL_BALANCER_ADMIN_PORT set, that port streams target health
 * (GET /events) and takes deregistrations and registrations (POST /targets/<id>/deregister,
 * POST /targets/<id>/register); see admin.ts.
 */
async function main() {
  const settings = parseBalancerSettings(process.env.HACTL_BALANCER_CONFIG);
  const admin = createAdmin(settings);
  const proxy = await startProxy(settings, (event) => admin.record(event));
  console.log(`hactl balancer listening on ${settings.host}:${proxy.port} for ${settings.targets.map((t) => `${t.host}:${t.port}`).join(', ')}`);

  const adminPort = process.env.HACTL_BALANCER_ADMIN_PORT;
  if (adminPort) await admin.listen(proxy, Number(adminPort), settings.host);

  const shutdown = () => {
    void Promise.all([admin.close(), proxy.stop()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(`hactl balancer failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
