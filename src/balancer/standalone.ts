import http from 'node:http';
import type { HealthChange } from './health-tracker.js';
import { startProxy } from './proxy.js';
import type { BalancerSettings } from './settings.js';

/**
 * hactl's balancer as a process of its own, for containers: the docker runtime's
 * `--docker-balancer container` and the compose files. Settings come as JSON in
 * HACTL_BALANCER_CONFIG. With HACTL_BALANCER_ADMIN_PORT set, GET /events on that port streams
 * target health as JSON lines, the current state first, so that hactl can follow it.
 */
async function main() {
  const settings = JSON.parse(process.env.HACTL_BALANCER_CONFIG ?? '') as BalancerSettings;
  const since = Date.now();
  const startsHealthy = (settings.initialTargetHealth ?? 'healthy') === 'healthy';
  const health = new Map<string, HealthChange>(settings.targets.map((target) => [target.id, { targetId: target.id, healthy: startsHealthy, at: since }]));
  const followers = new Set<http.ServerResponse>();

  const proxy = await startProxy(settings, (event) => {
    if (event.type !== 'health') return;
    const change = { targetId: event.targetId, healthy: event.healthy, at: event.at };
    health.set(change.targetId, change);
    for (const follower of followers) follower.write(`${JSON.stringify(change)}\n`);
  });
  console.log(`hactl balancer listening on ${settings.host}:${proxy.port} for ${settings.targets.map((t) => `${t.host}:${t.port}`).join(', ')}`);

  const adminPort = process.env.HACTL_BALANCER_ADMIN_PORT;
  const admin = adminPort
    ? http
        .createServer((req, res) => {
          if (req.url !== '/events') return void res.writeHead(404).end();
          res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
          for (const change of health.values()) res.write(`${JSON.stringify({ ...change, snapshot: true })}\n`);
          followers.add(res);
          res.on('close', () => followers.delete(res));
        })
        .listen(Number(adminPort), settings.host)
    : undefined;

  const shutdown = () => {
    for (const follower of followers) follower.end();
    admin?.close();
    void proxy.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(`hactl balancer failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
