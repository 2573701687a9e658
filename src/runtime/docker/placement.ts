import type { ContainerPlan, NetworkMode, Placement } from '../../topology/containers.js';
import { freePorts } from '../../platform/ports.js';

/** Where each service's ports are, as the plans name them and as hactl publishes them. */
export interface Placed {
  placement: Placement;
  /** The host ports each service's ports are published on (bridge), or listen on (host), by service. */
  publish: Map<string, number[]>;
}

/**
 * Places containers: on the host network every port is a free host port; on a bridge network
 * their fixed ports are published on free host ports, which stay the same across restarts (a
 * remote engine picks its own). A unit of its own so that any engine runtime (a Swarm one, say)
 * places its services the same way.
 */
export class PortPlacement {
  constructor(
    private readonly network: NetworkMode,
    /** A remote engine publishes on ports of its own choosing: hactl reads them back. */
    private readonly remote: boolean,
  ) {}

  /** `fixed` pins a service's first port, as --port does the balancer's. */
  async place(plans: readonly ContainerPlan[], fixed: Record<string, number> = {}): Promise<Placed> {
    const wanted = plans.reduce((count, plan) => count + plan.ports.length, 0);
    const ports = this.remote ? [] : await freePorts(wanted);
    const byService = new Map<string, number[]>();
    let next = 0;
    for (const plan of plans) byService.set(plan.service, plan.ports.map((_, i) => (i === 0 && fixed[plan.service]) || ports[next++]!));
    return {
      placement: this.network === 'host' ? { network: 'host', hostPorts: Object.fromEntries(byService) } : { network: 'bridge' },
      publish: byService,
    };
  }
}
