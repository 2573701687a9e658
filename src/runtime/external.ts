import { EnvironmentError, UsageError } from '../platform/errors.js';
import { oneNodeStore, type RunningStore, type StoreModule } from '../stores/store.js';
import { pollUntil } from '../platform/time.js';
import { fillReplicaTemplate, replicaId, unknownReplicaFields } from '../topology/plan.js';
import { execCommand, FAULT_COMMAND_FIELDS, FAULT_COMMAND_TIMEOUT_MS, runFaultCommand, VERIFY_COMMAND_FIELDS, type CommandRun } from '../platform/fault-command.js';
import { answerOf, answers2xx } from './http-probe.js';
import { checkTarget } from './target-check.js';
import type { Cluster, ClusterControl, CommandFaults, Runtime, RuntimeModule, RuntimeOptions } from './runtime.js';
import type { RateLimiter } from '../platform/rate-limit.js';
import { parseInteger, splitList, type FlagSpec } from '../platform/flag.js';
import { STRATEGY_NAMES } from '../strategies.js';

/** What the external runtime needs: the deployment's address, and the user's fault commands. */
export interface ExternalSettings {
  /** The deployment's balancer, an origin such as https://shop.example.com. */
  target: string;
  /** The profile's health path, which tells whether the deployment answers again after a fault; known once the profile is read. */
  healthPath?: string;
  killReplicaCmd?: string;
  startReplicaCmd?: string;
  killStoreCmd?: string;
  startStoreCmd?: string;
  /** Exits 0 once the fault it is asked about ({fault}) has taken effect: how hactl verifies a fault it cannot see. */
  verifyCmd?: string;
  /** Exits 0 once the store is back after kill-store. */
  storeReadyCmd?: string;
  /** How long one fault command may run, and how long hactl waits for a fault's outcome (--fault-timeout); 120 s when absent. */
  faultTimeoutMs?: number;
  /** Where each command runs (the config file's folder for one written there); hactl's working directory when absent. */
  commandDirs?: Partial<Record<FaultCommand, string>>;
}

/** The settings a started runtime works with: the profile's health path is known by then. */
type Deployment = ExternalSettings & { healthPath: string };

export type FaultCommand = 'killReplicaCmd' | 'startReplicaCmd' | 'killStoreCmd' | 'startStoreCmd' | 'verifyCmd' | 'storeReadyCmd';

const FAULT_COMMANDS = ['killReplicaCmd', 'startReplicaCmd', 'killStoreCmd', 'startStoreCmd', 'verifyCmd', 'storeReadyCmd'] as const satisfies readonly FaultCommand[];

export const EXTERNAL_FLAGS = [
  { key: 'target', option: '--target <url>', value: 'text', help: 'external: the deployment\'s load balancer, such as https://shop.example.com; give --strategy (the one it uses) and --replicas (how many it has)' },
  { key: 'killReplicaCmd', option: '--kill-replica-cmd <command>', value: 'text', help: 'external: a command that kills one replica ({replica}, {ordinal}, {signal}, {target} are filled in); without it, scenarios that kill replicas are skipped' },
  { key: 'startReplicaCmd', option: '--start-replica-cmd <command>', value: 'text', help: 'external: a command that starts a killed replica again (default: the platform does)' },
  { key: 'killStoreCmd', option: '--kill-store-cmd <command>', value: 'text', help: 'external: a command that kills the session store; without it, kill-store is skipped' },
  { key: 'startStoreCmd', option: '--start-store-cmd <command>', value: 'text', help: 'external: a command that starts the store again (default: the platform does)' },
  { key: 'verifyCmd', option: '--verify-cmd <command>', value: 'text', help: 'external: a command that exits 0 once a fault has taken effect ({fault} is kill-replica or kill-store; the fault commands\' fields too); polled after the fault command' },
  { key: 'storeReadyCmd', option: '--store-ready-cmd <command>', value: 'text', help: 'external: a command that exits 0 once the store is back after kill-store; a control user\'s login and read must hit too, when one can log in' },
  { key: 'faultTimeout', option: '--fault-timeout <s>', value: 'whole', help: 'external: how long a fault command may run, and how long hactl waits for a fault\'s outcome (default: 120; the wait for a killed store, 60)' },
] as const satisfies readonly FlagSpec[];

/** The flag that gives each command, for messages. */
const FLAG_OF: Record<FaultCommand, string> = {
  killReplicaCmd: '--kill-replica-cmd',
  startReplicaCmd: '--start-replica-cmd',
  killStoreCmd: '--kill-store-cmd',
  startStoreCmd: '--start-store-cmd',
  verifyCmd: '--verify-cmd',
  storeReadyCmd: '--store-ready-cmd',
};

/**
 * --runtime external tests a deployment hactl did not build: one strategy (the one it uses), its
 * own balancer, and faults only through the user's commands. Its balancer's timings cannot be
 * read, so the run's waits on it are bounded by ALB's defaults, the slowest profile, so that a
 * real ALB is given the minute it takes; a deployment's store is nobody's to warm up unasked,
 * and keeps none of the run's sessions (users log out).
 */
export const externalRuntime: RuntimeModule<ExternalSettings> = {
  name: 'external',
  flags: EXTERNAL_FLAGS,
  refuseFlags: (given, runtime) => `${given.join(', ')}: apply to --runtime external; this run uses --runtime ${runtime}`,
  app: { usage: '--target URL' },
  traits: { warmUpByDefault: false, logsOutUsers: true, measuresOverhead: false, forcedBalancerProfile: 'alb', namesReplicas: false, ownApp: true },
  parse: parseExternalFlags,
  complete: (settings, context) => ({ ...settings, healthPath: context.healthPath, commandDirs: Object.fromEntries(FAULT_COMMANDS.map((key) => [key, context.commandDir(key)])) }),
  report: (settings) => ({ app: { target: settings.target } }),
  balancer: (settings, healthPath) => ({ kind: 'external', target: settings.target, probePath: healthPath }),
  checking: (settings, healthPath) => `${settings.target}${healthPath}`,
  create: createExternalRuntime,
};

function parseExternalFlags(flags: Parameters<RuntimeModule<ExternalSettings>['parse']>[0]): ExternalSettings {
  if (flags.target === undefined) throw new UsageError("--runtime external: give --target URL, the address of the deployment's load balancer (such as https://shop.example.com)");
  const strategies = flags.strategy === undefined ? [] : splitList(flags.strategy);
  if (strategies.length !== 1 || strategies[0] === 'all') {
    throw new UsageError(`--runtime external: name the one strategy the deployment uses with --strategy (${STRATEGY_NAMES.join(', ')}), got ${flags.strategy === undefined ? 'none' : `"${flags.strategy}"`}`);
  }
  for (const [key, flag] of [['port', '--port'], ['balancer', '--balancer'], ['balancerProfile', '--balancer-profile'], ['algorithm', '--algorithm'], ['deregistrationDelay', '--deregistration-delay']] as const) {
    if (flags[key] !== undefined) throw new UsageError(`${flag}: sets hactl's own balancer; --runtime external uses the deployment's`);
  }
  let url: URL;
  try {
    url = new URL(flags.target);
  } catch {
    url = new URL('invalid:');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new UsageError(`--target: expected the deployment's origin, http(s)://host[:port] with no path, got "${flags.target}"`);
  }
  const commands: Partial<ExternalSettings> = {};
  for (const key of FAULT_COMMANDS) {
    const command = flags[key];
    if (command === undefined) continue;
    const fields: readonly string[] = key === 'verifyCmd' ? VERIFY_COMMAND_FIELDS : FAULT_COMMAND_FIELDS;
    const unknown = unknownReplicaFields(command, fields);
    if (command.trim() === '' || unknown.length > 0) {
      throw new UsageError(`${FLAG_OF[key]}: ${command.trim() === '' ? 'expected a shell command, got an empty one' : `unknown field ${unknown.map((field) => `{${field}}`).join(', ')}`}; it may use ${fields.map((field) => `{${field}}`).join(', ')}`);
    }
    commands[key] = command;
  }
  if (commands.storeReadyCmd !== undefined && commands.killStoreCmd === undefined) throw new UsageError('--store-ready-cmd: give --kill-store-cmd too; hactl asks whether the store is back only after killing it');
  if (flags.faultTimeout !== undefined) commands.faultTimeoutMs = 1_000 * parseInteger('--fault-timeout', flags.faultTimeout, 120, 1, 3_600);
  if (commands.startReplicaCmd !== undefined && commands.killReplicaCmd === undefined) throw new UsageError('--start-replica-cmd: give --kill-replica-cmd too; hactl starts only replicas it killed');
  if (commands.startStoreCmd !== undefined && commands.killStoreCmd === undefined) throw new UsageError('--start-store-cmd: give --kill-store-cmd too; hactl starts the store only after killing it');
  return { target: url.origin, ...commands };
}

/** How long hactl waits for a killed store to be back when --fault-timeout does not say. */
const STORE_BACK_DEFAULT_MS = 60_000;

/**
 * How often hactl probes the deployment's health path after a fault. How long it keeps probing is
 * the phase's bound: detectionBoundMs at ALB's timing, since the deployment's own are unknown.
 */
const SETTLE_INTERVAL_MS = 100;

/**
 * A deployment that exists already (a real ALB in front of real replicas): hactl sends traffic
 * to it and starts nothing. Faults happen only through the user's commands; scenarios that need
 * one that was not given, or that need control of the balancer or a fault proxy, are skipped.
 */
export async function createExternalRuntime(options: RuntimeOptions<ExternalSettings>): Promise<Runtime> {
  const { healthPath } = options.settings;
  // complete() gives it; a runtime started without it would probe the wrong path.
  if (healthPath === undefined) throw new Error('the external runtime was started before the app profile gave its health path');
  const settings: Deployment = { ...options.settings, healthPath };
  const env = options.env;
  const signal = options.signal;
  const replicaIds = Array.from({ length: options.replicas ?? 1 }, (_, i) => replicaId(i + 1));
  const probe = probeThrough(options.limiter, signal);

  const timeoutMs = settings.faultTimeoutMs ?? FAULT_COMMAND_TIMEOUT_MS;
  // A fault command that fails is an error row; --verify-cmd and --store-ready-cmd answer by their exit.
  const run: Run = (command, template, fields) => {
    const cwd = settings.commandDirs?.[command];
    const polled = command === 'verifyCmd' || command === 'storeReadyCmd';
    // A long fault command is told about as it runs (notices); a polled one runs again and again, briefly.
    const onProgress = polled ? undefined : options.onProgress;
    const commandOptions = { env, timeoutMs, ...(cwd !== undefined ? { cwd } : {}), ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) };
    const line = fillReplicaTemplate(template, { target: settings.target, ...fields });
    return polled ? execCommand(FLAG_OF[command], line, commandOptions) : runFaultCommand(FLAG_OF[command], line, commandOptions);
  };

  return {
    name: 'external',
    startsNothing: true,
    unsupported: (control) => unsupported(control, settings),
    checkBalancer: async (kind) =>
      kind === 'hactl' ? { available: true, detail: `the deployment's own balancer at ${settings.target}` } : { available: false, reason: `--balancer ${kind} starts a balancer; --runtime external uses the deployment's own`, fix: 'leave out --balancer' },
    checkStore: async (store) => ({ available: true, detail: `the deployment's own ${store.name}` }),
    startStore: async (store) => externalStore(store, settings, run),
    startStoreProxy: async () => {
      throw new EnvironmentError(unsupported('store-proxy', settings)!);
    },
    // Nothing to start: "started" means the target answers its health path, checked before any fault can be fired at it.
    startCluster: async () => {
      await probe(() => checkTarget(`${settings.target}${settings.healthPath}`, signal ? { signal } : {}));
      return externalCluster(settings, replicaIds, run, timeoutMs, signal, probe);
    },
    close: async () => {},
  };
}

function unsupported(control: ClusterControl, settings: ExternalSettings): string | undefined {
  switch (control) {
    case 'kill-replica':
      return settings.killReplicaCmd ? undefined : 'it kills a replica; with --runtime external give --kill-replica-cmd "COMMAND" ({replica} is filled in)';
    case 'start-replica':
      return settings.killReplicaCmd ? undefined : 'it restarts replicas; with --runtime external give --kill-replica-cmd (and --start-replica-cmd unless the platform restarts them)';
    case 'deregister-replica':
      return "it drains replicas through the balancer, and hactl cannot control the deployment's balancer";
    case 'kill-store':
      return settings.killStoreCmd ? undefined : 'it kills the session store; with --runtime external give --kill-store-cmd "COMMAND"';
    case 'store-proxy':
      return "it puts a fault proxy between the replicas and the store, which hactl can do only in a cluster it started";
  }
}

/**
 * Sends one of hactl's own requests to the deployment (its start check, a health probe): under
 * --rate it waits for a slot of the run's limiter, since the rate holds at the deployment for
 * everything hactl sends it, not only for users' requests.
 */
type Probe = <T>(send: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

function probeThrough(limiter: RateLimiter | undefined, runSignal: AbortSignal | undefined): Probe {
  // A probe nobody can stop still leaves the queue in its turn: the limiter serves waiters in order, at the rate.
  const never = new AbortController().signal;
  return async (send, signal) => (limiter ? limiter.schedule(send, signal ?? runSignal ?? never) : send());
}

type Run = (command: FaultCommand, template: string, fields: Record<string, string>) => Promise<CommandRun>;

/**
 * The deployment's own store: one node whose address hactl does not know, whose faults are the
 * user's commands (--kill-store-cmd, and --start-store-cmd unless the platform restarts it), or
 * none without them. No endpoint either: the deployment's apps know theirs, hactl does not.
 */
function externalStore(store: StoreModule, settings: ExternalSettings, run: Run): RunningStore {
  const none = { signal: '', replica: '', ordinal: '' };
  const killStoreCmd = settings.killStoreCmd;
  return oneNodeStore({
    name: store.name,
    description: `the deployment's own ${store.name} (not started by hactl)`,
    address: { known: false, why: `the deployment's own ${store.name}, which hactl did not start` },
    ...(killStoreCmd
      ? {
          commandFaults: {
            kill: (signal: NodeJS.Signals) => run('killStoreCmd', killStoreCmd, { ...none, signal: signal.replace(/^SIG/, '') }),
            ...(settings.startStoreCmd ? { start: () => run('startStoreCmd', settings.startStoreCmd!, none) } : {}),
            ...(settings.storeReadyCmd ? { ready: () => run('storeReadyCmd', settings.storeReadyCmd!, { ...none, fault: 'kill-store' }) } : {}),
            backWithinMs: settings.faultTimeoutMs ?? STORE_BACK_DEFAULT_MS,
          },
        }
      : {}),
    stop: async () => {},
  });
}

function externalCluster(settings: Deployment, replicaIds: string[], run: Run, timeoutMs: number, signal: AbortSignal | undefined, probe: Probe): Cluster {
  const fields = (replica: string) => ({ replica, ordinal: String(replicaIds.indexOf(replica) + 1), signal: '' });
  const known = (replica: string) => {
    if (!replicaIds.includes(replica)) throw new EnvironmentError(`no replica named ${replica}; --replicas says the deployment has ${replicaIds.length}`);
    return replica;
  };
  const health = `${settings.target}${settings.healthPath}`;
  const noBalancer = async (): Promise<never> => {
    throw new EnvironmentError(unsupported('deregister-replica', settings)!);
  };
  const wanted = 2 * replicaIds.length;
  /**
   * The deployment's balancer cannot be asked about its targets. A change counts as seen once
   * 2 x replicas health probes in a row through it succeed: by then round robin has been offered
   * every replica twice, so a dead one is out of rotation (or back, for a start).
   */
  const healthStreak = async (waitMs: number, waitSignal?: AbortSignal) => {
    let streak = 0;
    const stop = waitSignal ?? signal;
    return pollUntil(
      async () => {
        streak = (await probe(() => answers2xx(health), stop)) ? streak + 1 : 0;
        return streak >= wanted || undefined;
      },
      { timeoutMs: waitMs, intervalMs: SETTLE_INTERVAL_MS, ...(stop ? { signal: stop } : {}), onTimeout: () => new EnvironmentError('timeout') },
    ).then(
      () => true,
      (error: unknown) => {
        stop?.throwIfAborted();
        if (error instanceof EnvironmentError && error.message === 'timeout') return false;
        throw error;
      },
    );
  };
  const shared: CommandFaults = {
    timeoutMs,
    targetProblem: async () => {
      const answer = await probe(() => answerOf(health, 2_000));
      if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) return undefined;
      return `${health} ${answer.status === undefined ? `gave no answer (${answer.excerpt})` : `answered ${answer.status}`} just before the fault: hactl fires no fault at a deployment that is not answering`;
    },
    ...(settings.verifyCmd ? { verify: (fault: 'kill-replica' | 'kill-store', replica?: string) => run('verifyCmd', settings.verifyCmd!, { ...(replica ? fields(replica) : { replica: '', ordinal: '', signal: '' }), fault }) } : {}),
    healthStreak,
  };
  const killCommand = (replica: string, killSignal: NodeJS.Signals) => {
    if (!settings.killReplicaCmd) throw new EnvironmentError(unsupported('kill-replica', settings)!);
    return run('killReplicaCmd', settings.killReplicaCmd, { ...fields(known(replica)), signal: killSignal.replace(/^SIG/, '') });
  };
  return {
    balancerUrl: settings.target,
    replicaIds,
    // --start-replica-cmd runs within the fault timeout; without one the platform's restart is awaited as long.
    replicaStartBoundMs: timeoutMs,
    async killReplica(replica, killSignal) {
      const { startAt } = await killCommand(replica, killSignal);
      return { at: startAt };
    },
    async startReplica(replica) {
      if (settings.startReplicaCmd) await run('startReplicaCmd', settings.startReplicaCmd, fields(known(replica)));
    },
    commandFaults: {
      ...shared,
      kill: killCommand,
      ...(settings.startReplicaCmd ? { start: (replica: string) => run('startReplicaCmd', settings.startReplicaCmd!, fields(known(replica))) } : {}),
    },
    pauseReplica: noBalancer,
    unpauseReplica: noBalancer,
    /** See healthStreak: the only sign of a change hactl has without replica identity. */
    async waitForReplicaHealth(replica, healthy, waitMs, waitSignal) {
      if (!(await healthStreak(waitMs, waitSignal))) {
        throw new EnvironmentError(`${settings.target} did not answer ${settings.healthPath} ${wanted} times in a row within ${waitMs} ms of the fault on ${replica}`);
      }
      return { targetId: known(replica), healthy, at: Date.now() };
    },
    deregisterReplica: noBalancer,
    registerReplica: noBalancer,
    failure: () => undefined,
    stop: async () => {},
  };
}
