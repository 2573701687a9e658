import type { Supervised } from '../platform/processes.js';
import type { StoreNodeControls } from './store.js';

/**
 * A node that is one server process on the local runtime: `launch` starts it and resolves once
 * it is ready; a start after a kill launches it again on the same address and data. Returns the
 * node's controls and how to stop it.
 */
export async function serverProcessNode(
  launch: () => Promise<Supervised>,
  stopGraceMs?: number,
): Promise<{ controls: StoreNodeControls; stop(): Promise<void> }> {
  let server = await launch();
  return {
    controls: {
      async kill(signal) {
        await server.killGroup(signal);
      },
      async start() {
        server = await launch();
      },
      async pause() {
        server.signalGroup('SIGSTOP');
      },
      async unpause() {
        server.signalGroup('SIGCONT');
      },
    },
    async stop() {
      await server.stop(stopGraceMs);
    },
  };
}
