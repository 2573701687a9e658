import { removeRunResources } from './down.js';
import { connectEngine } from './engine.js';

// Run synchronously from the docker runtime's exit handler (`node reap.js RUN_ID`): an exit
// handler cannot wait for the engine's asynchronous API, but it can wait for a child process.
const runId = process.argv[2];
if (runId) {
  const engine = await connectEngine(process.env).catch(() => undefined);
  if (engine) await removeRunResources(engine.docker, runId).catch(() => undefined);
}
