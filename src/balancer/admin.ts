import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCommand, type ControlCommand } from './control.js';
import type { HealthChange } from './health-tracker.js';
import type { BalancerEvent, RunningProxy } from './proxy.js';
import type { BalancerSettings } from './settings.js';

/**
 * The admin port of a balancer that runs as its own process (standalone.ts), followed by
 * remote.ts:
 *   GET  /events                   target health as JSON lines, the current state first
 *   POST /targets/<id>/deregister  ALB deregistration; answers the JSON DrainResult once drained
 *   POST /targets/<id>/register    ALB registration; answers {} at once (the target starts initial)
 * Created before the proxy so that not one health event is missed; listens once the proxy runs.
 */
export function createAdmin(settings: BalancerSettings) {
  const since = Date.now();
  const startsHealthy = (settings.initialTargetHealth ?? 'healthy') === 'healthy';
  const health = new Map<string, HealthChange>(settings.targets.map((target) => [target.id, { targetId: target.id, healthy: startsHealthy, at: since }]));
  const followers = new Set<http.ServerResponse>();
  let server: http.Server | undefined;

  return {
    record(event: BalancerEvent): void {
      if (event.type !== 'health') return;
      const change = { targetId: event.targetId, healthy: event.healthy, at: event.at };
      health.set(change.targetId, change);
      for (const follower of followers) follower.write(`${JSON.stringify(change)}\n`);
    },
    async listen(proxy: RunningProxy, port: number, host: string): Promise<number> {
      server = http.createServer((req, res) => {
        if (req.url === '/events') return followHealth(res, health, followers);
        void answerControl(req, res, proxy, settings);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      return (server.address() as AddressInfo).port;
    },
    async close(): Promise<void> {
      for (const follower of followers) follower.end();
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

function followHealth(res: http.ServerResponse, health: ReadonlyMap<string, HealthChange>, followers: Set<http.ServerResponse>): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  for (const change of health.values()) res.write(`${JSON.stringify({ ...change, snapshot: true })}\n`);
  followers.add(res);
  res.on('close', () => followers.delete(res));
}

/** POST /targets/<id>/(de)register: the same commands the worker thread takes, over HTTP. */
async function answerControl(req: http.IncomingMessage, res: http.ServerResponse, proxy: RunningProxy, settings: BalancerSettings): Promise<void> {
  req.resume();
  const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  const match = /^\/targets\/([^/?]+)\/(deregister|register)$/.exec(req.url ?? '');
  if (!match) return void json(404, { error: `no admin endpoint ${req.method} ${req.url}` });
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
  let targetId: string;
  try {
    targetId = decodeURIComponent(match[1]!);
  } catch {
    return void json(400, { error: `target id ${match[1]} is not valid percent-encoding` });
  }
  if (!settings.targets.some((target) => target.id === targetId)) return void json(404, { error: `balancer has no target named ${targetId}` });
  const command: ControlCommand = { type: match[2] as ControlCommand['type'], requestId: 0, targetId };
  const reply = await runCommand(proxy, command);
  if (reply.ok) json(200, reply.result ?? {});
  else json(500, { error: reply.error });
}
