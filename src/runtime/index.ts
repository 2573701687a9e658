import { createDockerRuntime } from './docker.js';
import { createLocalRuntime } from './local.js';
import type { Runtime, RuntimeName, RuntimeOptions } from './runtime.js';

/** Every runtime, keyed by the name users type after --runtime. */
export const runtimes: Record<RuntimeName, (options: RuntimeOptions) => Promise<Runtime>> = {
  local: createLocalRuntime,
  docker: createDockerRuntime,
};
