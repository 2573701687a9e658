import { createLocalRuntime } from './local.js';
import type { Runtime, RuntimeName, RuntimeOptions } from './runtime.js';

/** Every runtime, keyed by the name users type after --runtime. */
export const runtimes: Record<RuntimeName, (options: RuntimeOptions) => Promise<Runtime>> = {
  local: createLocalRuntime,
  // Loaded when used: the Docker client costs every command a tenth of a second to load.
  docker: async (options) => (await import('./docker.js')).createDockerRuntime(options),
  external: async (options) => (await import('./external.js')).createExternalRuntime(options),
};
