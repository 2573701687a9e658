import { describe, expect, it } from 'vitest';
import { chooseStrategy, type StrategyChoice } from '../../strategies.js';
import { planTopology, type CustomApp } from '../../topology/plan.js';
import type { RunNeeds } from '../runtime.js';
import { exposedAppPort, imagesNeeded } from './run-images.js';
import type { DockerSettings } from './settings.js';

const settings: DockerSettings = { network: 'bridge', images: {}, balancer: 'hactl' };
const userApp: CustomApp = { image: 'shop:1.4', env: {}, healthPath: '/health' };

function needs(strategies: string[], options: { custom?: CustomApp; balancer?: 'hactl' | 'haproxy'; storeProxy?: boolean } = {}): RunNeeds {
  const topologies = strategies.map((label) =>
    planTopology(chooseStrategy(label) as StrategyChoice, { replicas: 3, balancerPort: 0, ...(options.balancer ? { balancer: options.balancer } : {}), ...(options.custom ? { custom: options.custom } : {}) }),
  );
  return { topologies, storeProxy: options.storeProxy ?? false };
}

describe('the images a docker run needs', () => {
  it('a user image with hactl\'s balancer in hactl needs no demo image, only its store images', () => {
    const needed = imagesNeeded(needs(['none', 'redis', 'postgres'], { custom: userApp }), settings, false);
    expect(needed.app).toBe('shop:1.4');
    expect(needed.demo).toBeUndefined();
    expect(Object.fromEntries(needed.stores)).toEqual({ redis: 'redis:7', postgres: 'postgres:16' });
    expect(needed.haproxy).toBeUndefined();
  });

  it('builds the demo image for whatever of the run uses it, and says what', () => {
    expect(imagesNeeded(needs(['none']), settings, false).demo).toBe('the demo app');
    expect(imagesNeeded(needs(['none'], { custom: userApp }), settings, true).demo).toBe("hactl's balancer in a container");
    // HAProxy stands in for hactl's balancer: no balancer container of hactl's.
    expect(imagesNeeded(needs(['none'], { custom: userApp, balancer: 'haproxy' }), settings, true)).toMatchObject({ haproxy: 'haproxy:2.6' });
    expect(imagesNeeded(needs(['none'], { custom: userApp, balancer: 'haproxy' }), settings, true).demo).toBeUndefined();
    expect(imagesNeeded(needs(['redis'], { custom: userApp, storeProxy: true }), settings, false).demo).toBe('the store fault proxy');
    // A fault proxy needs a store to stand before.
    expect(imagesNeeded(needs(['none'], { custom: userApp, storeProxy: true }), settings, false).demo).toBeUndefined();
    expect(imagesNeeded(needs(['redis:replica'], { custom: userApp }), settings, false).demo).toBe("a replicated store's links and primary endpoint");
  });

  it('takes --image overrides, and prepares for anything when the run does not say what it needs', () => {
    const overridden = imagesNeeded(needs(['redis']), { ...settings, images: { redis: 'my/redis:7', node: 'my/node:20' } }, false);
    expect(Object.fromEntries(overridden.stores)).toEqual({ redis: 'my/redis:7' });
    expect(overridden.node).toBe('my/node:20');
    expect(imagesNeeded(undefined, settings, false).demo).toBeDefined();
  });
});

describe("the port an image's EXPOSE names", () => {
  it('is the only one, or 8080 among several; otherwise undecided', () => {
    expect(exposedAppPort([3000])).toBe(3000);
    expect(exposedAppPort([8080, 9090])).toBe(8080);
    expect(exposedAppPort([3000, 9090])).toBeUndefined();
    expect(exposedAppPort([])).toBeUndefined();
  });
});
