import { APP_IMAGE_FLAG, DOCKER_FLAGS, dockerRuntime } from './docker/settings.js';
import { EXTERNAL_FLAGS, externalRuntime } from './external.js';
import { APP_CMD_FLAG, localRuntime } from './local.js';
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
/** The runtimes in registry order, for what every runtime takes part in (flags, app flags, refusals). */
export const RUNTIME_LIST: readonly RegisteredRuntime[] = Object.values(runtimes);

/** The runtime of a run that names none. */
export const DEFAULT_RUNTIME: RuntimeName = 'local';

/** Every runtime's own flags with their literal types, from which the parsed flags' type (RunFlags) takes their fields. */
export type RuntimeFlagSpecs = (typeof DOCKER_FLAGS)[number] | (typeof EXTERNAL_FLAGS)[number] | typeof APP_CMD_FLAG | typeof APP_IMAGE_FLAG;
