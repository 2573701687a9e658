import { createLocalRuntime } from './local.js';
import type { Runtime, RuntimeName } from './runtime.js';

export interface RuntimeOptions {
  runId: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Every runtime, keyed by the name users type after --runtime. */
export const runtimes: Record<RuntimeName, (options: RuntimeOptions) => Promise<Runtime>> = {
  local: createLocalRuntime,
};
