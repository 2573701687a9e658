import type { SessionStoreKind } from '../app/config.js';
import type { ProcessSupervisor } from '../runtime/processes.js';

export type StoreName = 'redis' | 'postgres' | 'mongo';

/** Whether a store can be had on this machine, and if not, what to do about it. */
export type Availability =
  | { available: true; detail: string }
  | { available: false; reason: string; fix: string };

export interface LocalStoreContext {
  supervisor: ProcessSupervisor;
  /** A directory of this run's own, removed at teardown. */
  runDir: string;
  runId: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** A store server that is up and accepting connections. */
export interface RunningStore {
  name: StoreName;
  /** The connection URL replicas use. */
  url: string;
  /** One line for reports: program, version, address, settings that matter. */
  description: string;
  /** Kills the server with a signal, as a fault would. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again after a kill, on the same address and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One store: how to find it and start it per runtime, when it is ready, its URL. Adding a
 * store is adding one file that exports one of these.
 */
export interface StoreModule {
  name: StoreName;
  /** Which session store the demo app opens against this server. */
  appStore: SessionStoreKind;
  local: {
    check(env: NodeJS.ProcessEnv): Promise<Availability>;
    start(context: LocalStoreContext): Promise<RunningStore>;
  };
}
