import { describe, expect, it } from 'vitest';
import { ALB_DEREGISTRATION_DELAY_MS, ALB_HEALTH_CHECK, detectionBoundMs, FAST_HEALTH_CHECK, type HealthCheckSettings } from '../../balancer/settings.js';
import type { Cluster } from '../../runtime/runtime.js';
import type { PhaseClient } from '../phase.js';
import type { Fault } from '../records.js';
import { createRng } from '../rng.js';
import { read } from './read.js';
import { restartBoundMs, restartReplicas } from './restart-replicas.js';

const ALB = { healthCheck: ALB_HEALTH_CHECK, deregistrationDelayMs: ALB_DEREGISTRATION_DELAY_MS };

/** A context with no users and a cluster that only records how long each wait on the balancer was allowed. */
function contextWith(healthCheck: HealthCheckSettings, faults: Fault[] = []) {
  const waits: Array<{ replica: string; healthy: boolean; timeoutMs: number }> = [];
  const cluster = {
    replicaIds: ['replica-1', 'replica-2'],
    async waitForReplicaHealth(replica: string, healthy: boolean, timeoutMs: number) {
      waits.push({ replica, healthy, timeoutMs });
      return { targetId: replica, healthy, at: Date.now() };
    },
    deregisterReplica: async () => ({ drainedMs: 0, abandoned: 0 }),
    killReplica: async () => ({ at: Date.now() }),
    startReplica: async () => {},
    registerReplica: async () => {},
  } as unknown as Cluster;
  const context = {
    phase: 'p',
    users: [],
    cluster,
    concurrency: 1,
    rng: createRng(1),
    faults,
    now: () => 0,
    fromEpoch: () => 1,
    balancer: { healthCheck, deregistrationDelayMs: 5_000 },
    signal: new AbortController().signal,
  } as unknown as PhaseClient;
  return { context, waits };
}

describe("waits on the balancer derive from its health checks (detectionBoundMs)", () => {
  it('a read until fault-detected without a timeout waits as long as the profile needs', async () => {
    for (const healthCheck of [FAST_HEALTH_CHECK, ALB_HEALTH_CHECK]) {
      const { context, waits } = contextWith(healthCheck, [{ kind: 'kill-replica', target: 'replica-1', at: 0 }]);
      await read.run(context, read.options.parse({ until: 'fault-detected' }));
      expect(waits).toEqual([{ replica: 'replica-1', healthy: false, timeoutMs: detectionBoundMs(healthCheck, 'unhealthy') }]);
    }
  });

  it("a scenario's own timeout is the one used", async () => {
    const { context, waits } = contextWith(ALB_HEALTH_CHECK, [{ kind: 'kill-replica', target: 'replica-1', at: 0 }]);
    await read.run(context, read.options.parse({ until: 'fault-detected', timeoutMs: 200_000 }));
    expect(waits[0]!.timeoutMs).toBe(200_000);
  });

  it('restart-replicas waits for each replica to be put back as long as the profile needs', async () => {
    const { context, waits } = contextWith(ALB_HEALTH_CHECK);
    await restartReplicas.run(context, restartReplicas.options.parse({ replicas: 'all' }));
    expect(waits).toEqual(['replica-1', 'replica-2'].map((replica) => ({ replica, healthy: true, timeoutMs: 215_000 })));
  });

  it("a rolling restart at ALB's timing may take its deregistration delay, a restart and the healthy bound per replica", () => {
    expect(restartBoundMs(ALB, 1)).toBe(300_000 + 30_000 + 215_000);
    expect(restartBoundMs(ALB, 3)).toBe(3 * restartBoundMs(ALB, 1));
    // A user's app that takes its --startup-timeout to answer again is given that too.
    expect(restartBoundMs(ALB, 1, 120_000)).toBe(300_000 + 30_000 + 120_000 + 215_000);
  });

  it('tells the loader which waits are on the balancer, and the bound the scenario set', () => {
    expect(read.balancerWait!(read.options.parse({ until: 'fault-detected' }))).toEqual({ direction: 'unhealthy' });
    expect(read.balancerWait!(read.options.parse({ until: 'fault-detected', timeoutMs: 15_000 }))).toEqual({ direction: 'unhealthy', timeoutMs: 15_000 });
    // Waiting for the store to come back is no wait on the balancer.
    expect(read.balancerWait!(read.options.parse({ until: 'no-errors', timeoutMs: 30_000 }))).toBeUndefined();
    expect(read.balancerWait!(read.options.parse({ reads: 3 }))).toBeUndefined();
    expect(restartReplicas.balancerWait!(restartReplicas.options.parse({}))).toEqual({ direction: 'healthy' });
  });
});
