import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createLocalRuntime } from '../../dist/runtime/local.js';
import type { Cluster, Runtime } from '../../dist/runtime/runtime.js';
import { chooseStrategy, type StrategyChoice } from '../../dist/strategies.js';
import { planTopology } from '../../dist/topology/plan.js';

/** hactl's balancer in front of real demo replicas, over real HTTP on 127.0.0.1. */
describe('balancer', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await createLocalRuntime({ runId: 'balancer-test', env: process.env, settings: {} });
  });
  afterAll(() => runtime.close());

  async function get(cluster: Cluster, path: string, cookie?: string) {
    const response = await request(cluster.balancerUrl + path, { headers: cookie ? { cookie } : {} });
    const body = await response.body.text();
    const setCookie = response.headers['set-cookie'];
    return {
      status: response.statusCode,
      replica: response.headers['x-hactl-replica'],
      setCookies: setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie],
      body,
    };
  }

  describe('round robin', () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await runtime.startCluster(planTopology(chooseStrategy('none') as StrategyChoice, { replicas: 3, balancerPort: 0 }), undefined);
    });
    afterAll(() => cluster.stop());

    it('sends consecutive requests to replica 1, 2, 3, 1, 2, 3 and tags each response', async () => {
      const replicas: unknown[] = [];
      for (let i = 0; i < 6; i++) replicas.push((await get(cluster, '/health')).replica);
      expect(replicas).toEqual(['replica-1', 'replica-2', 'replica-3', 'replica-1', 'replica-2', 'replica-3']);
    });

    it('sets no stickiness cookie', async () => {
      expect((await get(cluster, '/health')).setCookies).toEqual([]);
    });

    it('answers 502 tagged with the dead replica until health checks take it out, then skips it', async () => {
      await cluster.killReplica('replica-2', 'SIGKILL');
      const seen = new Set<string>();
      // Until the balancer notices, about a third of requests reach the dead replica.
      for (let i = 0; i < 3; i++) {
        const response = await get(cluster, '/health');
        if (response.replica === 'replica-2') expect(response.status).toBe(502);
        seen.add(String(response.replica));
      }
      expect(seen).toContain('replica-2');
      await cluster.waitForReplicaHealth('replica-2', false, 5_000);
      for (let i = 0; i < 6; i++) {
        const response = await get(cluster, '/health');
        expect(response.status).toBe(200);
        expect(response.replica).not.toBe('replica-2');
      }
    });
  });

  describe('lb_cookie stickiness (AWSALB)', () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await runtime.startCluster(planTopology(chooseStrategy('sticky') as StrategyChoice, { replicas: 3, balancerPort: 0 }), undefined);
    });
    afterAll(() => cluster.stop());

    const awsalb = (setCookies: string[]) => setCookies.find((cookie) => cookie.startsWith('AWSALB='));

    it('pins a client to one replica with AWSALB, refreshing Expires on every response', async () => {
      const first = await get(cluster, '/health');
      const cookie = awsalb(first.setCookies)!;
      expect(cookie).toMatch(/^AWSALB=[A-Za-z0-9_-]+; Expires=[^;]+ GMT; Path=\/$/);
      const expiry = (header: string) => Date.parse(/Expires=([^;]+)/.exec(header)![1]!);
      // One day from now, as ALB's default duration.
      expect(expiry(cookie) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
      const pair = cookie.split(';')[0]!;
      for (let i = 0; i < 5; i++) {
        const next = await get(cluster, '/health', pair);
        expect(next.replica).toBe(first.replica);
        expect(expiry(awsalb(next.setCookies)!)).toBeGreaterThanOrEqual(expiry(cookie));
      }
    });

    it('re-pins to a healthy replica once the pinned one is marked unhealthy', async () => {
      const first = await get(cluster, '/health');
      const pinned = String(first.replica);
      const pair = awsalb(first.setCookies)!.split(';')[0]!;
      await cluster.killReplica(pinned, 'SIGKILL');
      // As on ALB, requests pinned to a dead target fail until health checks mark it.
      const during = await get(cluster, '/health', pair);
      expect(during.status).toBe(502);
      expect(during.replica).toBe(pinned);
      await cluster.waitForReplicaHealth(pinned, false, 5_000);
      const after = await get(cluster, '/health', pair);
      expect(after.status).toBe(200);
      expect(after.replica).not.toBe(pinned);
      const repinned = awsalb(after.setCookies)!.split(';')[0]!;
      expect(repinned).not.toBe(pair);
      for (let i = 0; i < 3; i++) expect((await get(cluster, '/health', repinned)).replica).toBe(after.replica);
    });
  });
});
