import type { Supervised } from '../runtime/processes.js';
import type { RunningStore } from './store.js';

/**
 * A store that is one server process on the local runtime: `launch` starts it and resolves once
 * it is ready; a restart after a kill launches it again on the same address and data.
 */
export async function serverProcessStore(
  identity: Pick<RunningStore, 'name' | 'url' | 'description' | 'countEntries'>,
  launch: () => Promise<Supervised>,
  stopGraceMs?: number,
): Promise<RunningStore> {
  let server = await launch();
  return {
    ...identity,
    async kill(signal) {
      await server.killGroup(signal);
    },
    async restart() {
      server = await launch();
    },
    async pause() {
      server.signalGroup('SIGSTOP');
    },
    async unpause() {
      server.signalGroup('SIGCONT');
    },
    async stop() {
      await server.stop(stopGraceMs);
    },
  };
}
