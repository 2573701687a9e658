import type { StoreNode } from '../store.js';

/** A proxy the reader can re-point: new connections go to `upstream`, open ones close (src/faults/tcp-proxy.ts). */
export interface ReaderProxy {
  setUpstream(upstream: { host: string; port: number }): Promise<void>;
}

/** The reader endpoint of a store hactl fails over, as its topology module keeps it on a replica. */
export interface ReaderEndpoint {
  /** The replica it reaches now; undefined when it reaches none (it was promoted, or is down). */
  node(): StoreNode | undefined;
  /** Moves it to a running replica when it reaches none: after a promotion, after a node rejoins. */
  follow(): Promise<void>;
}

/**
 * The managed service's reader endpoint, played by hactl: one stable address that reaches a
 * replica. It starts on the first replica and moves only when that one stops being a running
 * replica (promoted by a failover, or killed), to the first node that is one; while no replica
 * runs it stays where it was and says it reaches none, so that a phase reads nothing there as a
 * replica's answer. With several replicas it reaches one of them, not each in turn (ElastiCache's
 * reader endpoint spreads connections; one replica, the default, is the same thing).
 */
export function readerEndpoint(
  proxy: ReaderProxy,
  nodes: readonly StoreNode[],
  options: {
    primary(): StoreNode;
    running(node: StoreNode): boolean;
    /** Where a client reaches the node's server. */
    reach(node: StoreNode): { host: string; port: number };
    initial: StoreNode;
  },
): ReaderEndpoint {
  let at = options.initial;
  const isReplica = (node: StoreNode) => node !== options.primary() && options.running(node);
  // Moves one at a time: a promotion and a rejoin may ask at once.
  let moving: Promise<void> = Promise.resolve();
  return {
    node: () => (isReplica(at) ? at : undefined),
    follow() {
      const next = moving.then(async () => {
        if (isReplica(at)) return;
        const target = nodes.find(isReplica);
        if (!target) return;
        await proxy.setUpstream(options.reach(target));
        at = target;
      });
      moving = next.catch(() => undefined);
      return next;
    },
  };
}
