import { EnvironmentError } from '../../platform/errors.js';
import type { FailoverController } from './failover.js';
import { failoverBoundMs } from './timings.js';
import type { FailoverTimings, StoreNode, StoreNodeControls } from '../store.js';

/**
 * A node of a store hactl fails over, killed and started as the managed service does it: a killed
 * primary comes back only once the failover has moved the endpoint, and always as a replica of the
 * primary of the moment (`rejoin` makes it one: a restart with --replicaof, a rebuild from a base
 * backup, a new container); the step is recorded as a rejoin, or an attach for a killed replica.
 */
export function rejoiningControls(
  node: StoreNode,
  failover: Pick<FailoverController, 'primary' | 'waitFor' | 'record'>,
  options: {
    timings: FailoverTimings;
    signal?: AbortSignal | undefined;
    /** Marks the node not running (the controller asks only running nodes), then kills it. */
    kill(signal: NodeJS.Signals): Promise<void>;
    rejoin(primary: StoreNode, wasPrimary: boolean): Promise<void>;
    pause(): Promise<void>;
    unpause(): Promise<void>;
  },
): StoreNodeControls {
  let killed: { at: number; wasPrimary: boolean } | undefined;
  return {
    async kill(signal) {
      killed = { at: Date.now(), wasPrimary: failover.primary() === node };
      await options.kill(signal);
    },
    async start() {
      if (failover.primary() === node) {
        const bound = failoverBoundMs(options.timings);
        const moved = await failover.waitFor('endpoint-moved', killed?.at ?? Date.now(), bound, options.signal);
        if (!moved) throw new EnvironmentError(`no replica of ${node.id} was promoted within ${bound} ms, so it cannot rejoin as one`);
      }
      const primary = failover.primary();
      await options.rejoin(primary, killed?.wasPrimary === true);
      failover.record(killed?.wasPrimary ? 'rejoined-as-replica' : 'replica-attached', node, `to ${primary.id}`);
      killed = undefined;
    },
    pause: options.pause,
    unpause: options.unpause,
  };
}
