import { describe, expect, it } from 'vitest';
import type { ContainerPlan } from '../../topology/containers.js';
import { PortPlacement } from './placement.js';

const plan = (service: string, ports: number[]): ContainerPlan => ({ role: 'replica', service, image: 'img', command: [], env: {}, ports });

describe('port placement', () => {
  const plans = [plan('replica-1', [8080]), plan('balancer', [8080, 8081]), plan('store-proxy', [7000, 7001])];

  it('gives every port of every service a distinct free host port, and pins a fixed first port', async () => {
    const { placement, publish } = await new PortPlacement('host', false).place(plans, { balancer: 45_678 });
    const ports = [...publish.values()].flat();
    expect([...publish.keys()]).toEqual(['replica-1', 'balancer', 'store-proxy']);
    expect(publish.get('balancer')![0]).toBe(45_678);
    expect(ports).toHaveLength(5);
    expect(new Set(ports).size).toBe(5);
    // On the host network the plans must name those ports; the same map says which.
    expect(placement).toEqual({ network: 'host', hostPorts: Object.fromEntries(publish) });
  });

  it('on a bridge network publishes the same way, the plans keeping their fixed ports', async () => {
    const { placement, publish } = await new PortPlacement('bridge', false).place(plans);
    expect(placement).toEqual({ network: 'bridge' });
    expect([...publish.values()].flat().every((port) => port > 0)).toBe(true);
  });

  it('leaves the ports to a remote engine, which picks its own', async () => {
    const { publish } = await new PortPlacement('bridge', true).place(plans);
    expect([...publish.values()].flat()).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
