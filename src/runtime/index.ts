import { dockerRuntime } from './docker/settings.js';
import { externalRuntime } from './external.js';
import { localRuntime } from './local.js';
import { registerRuntime, type RegisteredRuntime } from './runtime.js';

/**
 * Every runtime, keyed by the name users type after --runtime, in the order --help and errors
 * list them. Registering a runtime here is all the CLI, the config file and a run need: its flags
 * join the flag table, and its settings and traits reach run.ts through ChosenRuntime.
 */
export const runtimes = {
  local: registerRuntime(localRuntime),
  docker: registerRuntime(dockerRuntime),
  external: registerRuntime(externalRuntime),
} satisfies Record<string, RegisteredRuntime>;

export type RuntimeName = keyof typeof runtimes;
export const RUNTIME_NAMES = Object.keys(runtimes) as RuntimeName[];

/** The runtime of a run that names none. */
export const DEFAULT_RUNTIME: RuntimeName = 'local';
