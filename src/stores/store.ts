import type { SessionStoreKind } from '../app/config.js';
import type { ProcessSupervisor } from '../runtime/processes.js';
import type { RedisPersistence } from '../strategies.js';
import type { StoreCommandFaults } from '../runtime/runtime.js';

export type StoreName = 'redis' | 'postgres' | 'mongo';

/** How a store server runs beyond its defaults: a strategy's variant (`redis:aof-always`). */
export interface StoreOptions {
  persistence?: RedisPersistence;
}

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
  /** False for a server hactl did not start (HACTL_MONGO_URL): it cannot kill and restart it. */
  restartable?: boolean;
  /**
   * How many entries the server holds (keys, rows of user tables, documents), asked by hactl
   * itself: an app that never wrote a session there is not using the store, and its rows would
   * measure per-replica memory under the store's name.
   */
  countEntries?(): Promise<number>;
  /** Kills the server with a signal, as a fault would. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again after a kill, on the same address and data. */
  restart(): Promise<void>;
  /** Present when the store's faults are the user's commands (--runtime external): kill-store waits for it to be back and verifies the fault. */
  commandFaults?: StoreCommandFaults;
  /** Freezes the server (SIGSTOP, docker pause): connections stay open, nothing answers. */
  pause(): Promise<void>;
  unpause(): Promise<void>;
  stop(): Promise<void>;
}

/** How a store runs in a container, on any Docker engine: the same server, from an image. */
export interface DockerStoreRecipe {
  /** The name users give to --image (`--image redis=...`), and the official image used by default. */
  image: { key: string; default: string };
  /** The port the server listens on in its own network namespace, on a bridge network. */
  port: number;
  /** How to run it listening on host:port: the command (after the image's entrypoint) and environment. */
  container(listen: { host: string; port: number }, options: StoreOptions): { command: string[]; env: Record<string, string> };
  /** The URL a replica uses to reach the server at host:port. */
  url(host: string, port: number): string;
  /** Whether the server answers at host:port, asked from hactl. */
  probe(host: string, port: number): Promise<boolean>;
  /** How the server shuts down cleanly; Docker's default is SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** What the report says about it besides image and address. */
  settings(options: StoreOptions): string;
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
    start(context: LocalStoreContext, options: StoreOptions): Promise<RunningStore>;
  };
  docker: DockerStoreRecipe;
  /** Entries the server at `url` holds (hactl's own view, not a replica's): see RunningStore.countEntries. */
  countEntries(url: string): Promise<number>;
  /** The `{field}` of --app-cmd and --app-env that carries this store's URL, for messages. */
  urlField: string;
}
