import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { measureBalancerOverhead, RunOverhead } from './overhead.js';
import { startProxy } from '../balancer/proxy.js';
import type { BalancerSettings } from '../balancer/settings.js';

/** The proxy in this process in front of two tiny node:http replicas, over real sockets. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function startReplica(id: string): Promise<{ id: string; host: string; port: number; hits: number }> {
  const replica = { id, host: '127.0.0.1', port: 0, hits: 0 };
  const server = http.createServer((_req, res) => {
    replica.hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  replica.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return replica;
}

/** A balancer in front of `targets`, as a cluster shows it: its URL and the targets to reach directly. */
async function startBalancerFor(targets: Array<{ id: string; host: string; port: number }>): Promise<{ balancerUrl: string; directTargets: typeof targets }> {
  const settings: BalancerSettings = {
    host: '127.0.0.1',
    port: 0,
    targets,
    algorithm: 'round_robin',
    stickiness: { type: 'off' },
    healthCheck: { path: '/health', intervalMs: 60_000, timeoutMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 2, matcher: '200' },
    upstreamTimeoutMs: 2_000,
    connectTimeoutMs: 1_000,
    deregistrationDelayMs: 0,
  };
  const proxy = await startProxy(settings, () => undefined);
  const url = `http://127.0.0.1:${proxy.port}`;
  cleanups.push(async () => {
    await proxy.stop();
  });
  return { balancerUrl: url, directTargets: targets };
}

describe('balancer overhead', () => {
  it('measures both paths over every target and states non-negative differences', async () => {
    const replicas = [await startReplica('replica-1'), await startReplica('replica-2')];
    const cluster = await startBalancerFor(replicas);
    const overhead = await measureBalancerOverhead(cluster.balancerUrl, cluster.directTargets, '/health', { samples: 50 });
    expect(overhead).toBeDefined();
    expect(overhead!.samples).toBe(50);
    expect(overhead!.p50).toBeGreaterThanOrEqual(0);
    expect(overhead!.p99).toBeGreaterThanOrEqual(0);
    // Five rounds of ten each way, each with its own signed difference of medians.
    expect(overhead!.p50ByRound).toHaveLength(5);
    for (const difference of overhead!.p50ByRound!) expect(Number.isFinite(difference)).toBe(true);
    // Direct requests take the targets in turn, as the balancer's round robin does.
    for (const replica of replicas) expect(replica.hits).toBeGreaterThanOrEqual(50);
  });

  it('has nothing to say about a balancer whose targets this process cannot reach', async () => {
    expect(await measureBalancerOverhead('http://127.0.0.1:9', [], '/health')).toBeUndefined();
    const unreachable = new RunOverhead(true);
    await unreachable.measure({ balancerUrl: 'http://127.0.0.1:9' }, '/health');
    expect(unreachable.settings()).toEqual({});
  });

  it('measures once per run, and not at all when disabled', async () => {
    const cluster = await startBalancerFor([await startReplica('replica-1')]);
    const once = new RunOverhead(true);
    await once.measure(cluster, '/health');
    const first = once.settings().overheadMs;
    expect(first).toBeDefined();
    expect(first!.probeMs).toBeGreaterThanOrEqual(0);
    await once.measure(cluster, '/health');
    expect(once.settings().overheadMs).toBe(first);
    const disabled = new RunOverhead(false);
    await disabled.measure(cluster, '/health');
    expect(disabled.settings()).toEqual({});
  });
});
