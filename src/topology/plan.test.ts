import { describe, expect, it } from 'vitest';
import { chooseStrategy, type StrategyChoice } from '../strategies.js';
import { fillReplicaTemplate, planTopology, replicaTemplateValues, unknownReplicaFields } from './plan.js';

const choice = (name: string) => chooseStrategy(name) as StrategyChoice;

describe('replica templates', () => {
  it('fills the replica\'s address and its store\'s, leaving other stores empty', () => {
    const topology = planTopology(choice('redis'), { replicas: 2, balancerPort: 0 });
    const values = replicaTemplateValues(topology, topology.replicas[1]!, { host: '127.0.0.1', port: 4100 }, 'redis://127.0.0.1:6390');
    expect(values).toEqual({
      port: '4100',
      host: '127.0.0.1',
      replica: 'replica-2',
      strategy: 'redis',
      storeUrl: 'redis://127.0.0.1:6390',
      redisUrl: 'redis://127.0.0.1:6390',
      redisHost: '127.0.0.1',
      redisPort: '6390',
      redisSentinels: '',
      redisMasterName: '',
      redisReaderUrl: '',
      postgresUrl: '',
      postgresReaderUrl: '',
      mongoUrl: '',
    });
    expect(fillReplicaTemplate('php -S {host}:{port} -d x={{literal}} {redisUrl}', values)).toBe('php -S 127.0.0.1:4100 -d x={literal} redis://127.0.0.1:6390');
  });

  it('leaves every store field empty for a strategy without a store', () => {
    const topology = planTopology(choice('sticky'), { replicas: 1, balancerPort: 0 });
    const values = replicaTemplateValues(topology, topology.replicas[0]!, { host: '127.0.0.1', port: 4100 }, undefined);
    expect([values.storeUrl, values.redisUrl, values.redisHost, values.redisPort, values.postgresUrl, values.mongoUrl]).toEqual(['', '', '', '', '', '']);
  });

  it('names unknown fields and ignores escaped braces', () => {
    expect(unknownReplicaFields('{port} {{json}} {replica} {prot} {db}')).toEqual(['prot', 'db']);
  });

  it('app_cookie stickiness follows the app profile\'s cookie', () => {
    const topology = planTopology(choice('sticky:app_cookie'), { replicas: 1, balancerPort: 0, cookieName: 'PHPSESSID' });
    expect(topology.balancer.stickiness).toMatchObject({ type: 'app_cookie', appCookieName: 'PHPSESSID' });
    expect(topology.app.cookieName).toBe('PHPSESSID');
  });
});

describe('the balancer health check follows the app profile', () => {
  it("probes the profile's health path and accepts any 2xx, on every balancer profile", () => {
    for (const profile of ['fast', 'alb'] as const) {
      const topology = planTopology(choice('sticky'), { replicas: 2, balancerPort: 0, profile, healthPath: '/actuator/health' });
      expect(topology.balancer.healthCheck.path).toBe('/actuator/health');
      expect(topology.balancer.healthCheck.matcher).toBe('200-299');
    }
  });

  it("probes the demo app's /health without a profile path", () => {
    expect(planTopology(choice('none'), { replicas: 1, balancerPort: 0 }).balancer.healthCheck.path).toBe('/health');
  });
});

describe('the balancer in a container (docker runtime, hactl compose) probes the same path', () => {
  it("carries the profile's health path and matcher into the container's balancer settings", async () => {
    const { balancerContainer } = await import('./containers.js');
    const topology = planTopology(choice('sticky'), { replicas: 2, balancerPort: 0, healthPath: '/healthz' });
    const settings = JSON.parse(balancerContainer(topology, 'image', { network: 'bridge' }).env.HACTL_BALANCER_CONFIG!) as { healthCheck: { path: string; matcher: string } };
    expect(settings.healthCheck).toMatchObject({ path: '/healthz', matcher: '200-299' });
  });
});
