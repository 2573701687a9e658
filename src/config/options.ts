import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { ID_SAMPLE_RANGE } from '../driver/phases/security-id-quality.js';
import { UsageError } from '../platform/errors.js';
import { FORMAT_NAMES, type FormatName } from '../report/renderers.js';
import { DEFAULT_RUNTIME, RUNTIME_LIST, RUNTIME_NAMES, runtimes } from '../runtime/index.js';
import type { ChosenRuntime, RegisteredRuntime } from '../runtime/runtime.js';
import { ALGORITHMS, BALANCER_PROFILES, type Algorithm, type BalancerProfile } from '../balancer/settings.js';
import { chooseStrategy, REPLICATED_VARIANTS, STRATEGY_NAMES, type StrategyChoice } from '../strategies.js';
import { FAILOVER_PROFILES, type FailoverProfileName } from '../stores/store.js';
import { longName, oneOf, parseInteger, splitList, type FlagSpec } from '../platform/flag.js';
import { BALANCER_KINDS, REPLICA_TEMPLATE_FIELDS, unknownReplicaFields, type BalancerKind } from '../topology/plan.js';

export type { RunFlags } from './flags.js';
import type { RunFlags } from './flags.js';

/** The app under test, as flags give it: a profile file, and a command or image per replica. */
export interface AppFlags {
  profileFile?: string;
  command?: string;
  image?: string;
  env: Record<string, string>;
}

export interface RunSettings {
  strategies: StrategyChoice[];
  /** Built-in scenario names or paths to scenario files, loaded and validated later. */
  scenarios: string[] | 'all';
  replicas: number;
  users: number;
  reads: number;
  concurrency: number;
  /** The runtime with its own settings, parsed and validated by it. */
  runtime: ChosenRuntime;
  format: FormatName;
  out?: string;
  samples?: string;
  seed?: number;
  port: number;
  requestTimeoutMs: number;
  /** How long a replica of the user's app may take to answer its health path. */
  startupTimeoutMs: number;
  /** Check the app once before any row (hactl check's steps). */
  preflight: boolean;
  balancer: BalancerKind;
  balancerProfile: BalancerProfile;
  algorithm: Algorithm;
  /** Overrides the profile's deregistration delay. */
  deregistrationDelayMs?: number;
  app: AppFlags;
  /** --rate: at most this many requests a second to the app (absent: no limit). */
  rate?: number;
  /** Throwaway users warm the replicas up before each scenario: the runtime's default unless --warm-up says. */
  warmUp: boolean;
  /** --id-sample: the id-quality check's logins (absent: the scenario's, 1,000 in security). */
  idSample?: number;
  /** How replicated store variants run and fail over. */
  store: StoreSettings;
}

/** --store-replicas, --failover-profile and --replication-delay. */
export interface StoreSettings {
  /** Replicas beside the primary (absent: the variant's, 1). */
  replicas?: number;
  failoverProfile: FailoverProfileName;
  /** The replica-lag scenario's delay on the replication links. */
  replicationDelayMs: number;
}

export const DEFAULT_REPLICATION_DELAY_MS = 200;
const STORE_FLAG_NAMES = { storeReplicas: '--store-replicas', failoverProfile: '--failover-profile', replicationDelay: '--replication-delay' } as const;
const STORE_REPLICAS_MAX = 5;

export const DEFAULT_SCENARIOS = ['login-read', 'kill-node', 'cookie-swap'];
export const DEFAULTS = { replicas: 3, users: 30, reads: 10, concurrency: 10, requestTimeoutMs: 10_000, startupTimeoutSeconds: 60 } as const;

/**
 * Turns flags into settings, or throws a UsageError naming the flag, what it got and what it
 * expects. `env` supplies HACTL_IMAGE_<KEY> image overrides, which --image flags override.
 */
export function parseRunFlags(flags: RunFlags, env: NodeJS.ProcessEnv = {}): RunSettings {
  const chosen = runtimes[oneOf('--runtime', flags.runtime ?? DEFAULT_RUNTIME, RUNTIME_NAMES)];
  // Another runtime's flags on this run: refused in the registry's order, each runtime in its own words.
  for (const other of RUNTIME_LIST) {
    if (other === chosen) continue;
    const given = other.flags.filter((flag) => flags[flag.key as keyof RunFlags] !== undefined);
    if (given.length > 0) throw new UsageError(other.refuseFlags(given.map(longFlag), chosen.name));
  }
  const runtime = chosen.parse(flags, env);
  const strategies = parseStrategies(flags.strategy ?? 'all');
  return {
    strategies,
    scenarios: parseScenarioList(flags.scenario),
    replicas: parseInteger('--replicas', flags.replicas, DEFAULTS.replicas, 1, 64),
    users: parseInteger('--users', flags.users, DEFAULTS.users, 1, 100_000),
    reads: parseInteger('--reads', flags.reads, DEFAULTS.reads, 1, 10_000),
    concurrency: parseInteger('--concurrency', flags.concurrency, DEFAULTS.concurrency, 1, 1_000),
    runtime,
    format: oneOf('--format', flags.format ?? 'table', FORMAT_NAMES),
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
    ...(flags.seed !== undefined ? { seed: parseInteger('--seed', flags.seed, 0, 0, 2 ** 32 - 1) } : {}),
    port: parseInteger('--port', flags.port, 0, 0, 65_535),
    requestTimeoutMs: parseInteger('--request-timeout', flags.requestTimeout, DEFAULTS.requestTimeoutMs, 100, 600_000),
    startupTimeoutMs: 1_000 * parseInteger('--startup-timeout', flags.startupTimeout, DEFAULTS.startupTimeoutSeconds, 1, 3_600),
    preflight: flags.preflight !== false,
    balancer: oneOf('--balancer', flags.balancer ?? 'hactl', BALANCER_KINDS),
    balancerProfile: runtime.forcedBalancerProfile ?? oneOf('--balancer-profile', flags.balancerProfile ?? 'fast', BALANCER_PROFILES),
    algorithm: oneOf('--algorithm', flags.algorithm ?? 'round_robin', ALGORITHMS),
    // ALB's range for deregistration_delay.timeout_seconds.
    ...(flags.deregistrationDelay !== undefined ? { deregistrationDelayMs: 1_000 * parseInteger('--deregistration-delay', flags.deregistrationDelay, 0, 0, 3_600) } : {}),
    app: parseAppFlags(flags, chosen),
    ...parseLoadFlags(flags, runtime),
    store: parseStoreFlags(flags, strategies),
  };
}

/**
 * How replicated stores run: their flags mean nothing to a one-node store, so giving one without
 * a replicated variant chosen is a mistake worth a line (a typo'd variant, most likely).
 */
export function parseStoreFlags(flags: Pick<RunFlags, 'storeReplicas' | 'failoverProfile' | 'replicationDelay'>, strategies: readonly StrategyChoice[]): StoreSettings {
  const replicated = strategies.filter((choice) => choice.variant.replication !== undefined);
  const given = (['storeReplicas', 'failoverProfile', 'replicationDelay'] as const).filter((key) => flags[key] !== undefined);
  if (given.length > 0 && replicated.length === 0) {
    throw new UsageError(`${given.map((key) => STORE_FLAG_NAMES[key]).join(', ')}: apply to replicated store variants (${REPLICATED_VARIANTS.join(', ')}); none is among --strategy`);
  }
  return {
    ...(flags.storeReplicas !== undefined ? { replicas: parseInteger('--store-replicas', flags.storeReplicas, 1, 1, STORE_REPLICAS_MAX) } : {}),
    failoverProfile: oneOf('--failover-profile', flags.failoverProfile ?? 'fast', FAILOVER_PROFILES),
    // 0 would make replica-lag a store-failover under another name.
    replicationDelayMs: parseInteger('--replication-delay', flags.replicationDelay, DEFAULT_REPLICATION_DELAY_MS, 1, 60_000),
  };
}

/** A flag as messages name it: its long spelling (`--docker-network`). */
function longFlag(flag: FlagSpec): string {
  return `--${longName(flag)}`;
}

/** The most --rate allows: far beyond what one hactl process can send. */
const MAX_RATE = 1_000_000;

/**
 * How much load a run puts on the app, and what it leaves there: whether to warm up unasked is
 * the runtime's to say (a deployment's app is nobody's to warm up).
 */
export function parseLoadFlags(flags: Pick<RunFlags, 'rate' | 'warmUp' | 'idSample'>, runtime: Pick<ChosenRuntime, 'warmUpByDefault'>): Pick<RunSettings, 'rate' | 'warmUp' | 'idSample'> {
  return {
    ...(flags.rate !== undefined ? { rate: parseInteger('--rate', flags.rate, 0, 1, MAX_RATE) } : {}),
    warmUp: flags.warmUp ?? runtime.warmUpByDefault,
    ...(flags.idSample !== undefined ? { idSample: parseInteger('--id-sample', flags.idSample, 0, ID_SAMPLE_RANGE.min, ID_SAMPLE_RANGE.max) } : {}),
  };
}

/**
 * The user's app: each runtime declares the app flag it takes (--app-cmd starts replicas as
 * processes on local, --app-image as containers on docker); --app-env goes with either.
 */
export function parseAppFlags(flags: Pick<RunFlags, 'appProfile' | 'appCmd' | 'appImage' | 'appEnv'>, runtime: RegisteredRuntime): AppFlags {
  const takers = RUNTIME_LIST.filter((module) => module.app.flag !== undefined);
  const given = takers.filter((module) => flags[module.app.flag!.key as 'appCmd' | 'appImage'] !== undefined);
  if (given.length > 1) throw new UsageError(`${given.map((module) => longFlag(module.app.flag!)).join(' and ')}: give one; ${given.map((module, i) => `${longFlag(module.app.flag!)}${i === 0 ? ' runs each replica' : ''} ${module.app.runs} (--runtime ${module.name})`).join(', ')}`);
  const taker = given[0];
  if (taker && taker !== runtime) throw new UsageError(`${longFlag(taker.app.flag!)} applies to --runtime ${taker.name}; with --runtime ${runtime.name} use ${runtime.app.usage}`);
  if (flags.appEnv !== undefined && flags.appCmd === undefined && flags.appImage === undefined) throw new UsageError('--app-env sets the environment of your app\'s replicas; give --app-cmd or --app-image with it');
  if (flags.appCmd !== undefined && flags.appCmd.trim() === '') throw new UsageError('--app-cmd: expected a shell command that starts one replica, such as "php -S {host}:{port} app.php"; got an empty one');
  if (flags.appImage !== undefined && !/^[\w][\w.\-/:@]*$/.test(flags.appImage)) throw new UsageError(`--app-image: expected an image reference such as my-app:1.2, got "${flags.appImage}"`);
  const env: Record<string, string> = {};
  for (const pair of flags.appEnv ?? []) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--app-env: expected KEY=VALUE with KEY letters, digits and _, got "${pair}"`);
    env[match[1]!] = match[2]!;
  }
  for (const [flag, template] of [['--app-cmd', flags.appCmd], ...Object.entries(env).map(([key, value]) => [`--app-env ${key}`, value])] as const) {
    const unknown = template === undefined ? [] : unknownReplicaFields(template);
    if (unknown.length > 0) {
      throw new UsageError(`${flag}: unknown field ${unknown.map((field) => `{${field}}`).join(', ')}; expected ${REPLICA_TEMPLATE_FIELDS.map((field) => `{${field}}`).join(', ')} (write {{ and }} for literal braces)`);
    }
  }
  return {
    ...(flags.appProfile !== undefined ? { profileFile: flags.appProfile } : {}),
    ...(flags.appCmd !== undefined ? { command: flags.appCmd } : {}),
    ...(flags.appImage !== undefined ? { image: flags.appImage } : {}),
    env,
  };
}

/** `none,redis:aof-always` or `all`; `all` is every strategy with its default variant. */
export function parseStrategies(value: string): StrategyChoice[] {
  const names = splitList(value);
  if (names.length === 0) throw new UsageError(`--strategy: expected a comma-separated list of ${STRATEGY_NAMES.join(', ')} (or all), got "${value}"`);
  const expanded = names.flatMap((name) => (name === 'all' ? STRATEGY_NAMES : [name]));
  const choices: StrategyChoice[] = [];
  for (const name of expanded) {
    const choice = chooseStrategy(name);
    if (typeof choice === 'string') throw new UsageError(`--strategy: ${choice}`);
    if (!choices.some((known) => known.label === choice.label)) choices.push(choice);
  }
  return choices;
}

function parseScenarioList(value: string | undefined): string[] | 'all' {
  if (value === undefined) return DEFAULT_SCENARIOS;
  const names = splitList(value);
  if (names.length === 0) throw new UsageError(`--scenario: expected a comma-separated list of scenario names or files, got "${value}"`);
  return names.includes('all') ? 'all' : [...new Set(names)];
}

export { parseInteger };

/** Fails before anything starts if the report could not be written at the end. */
export async function checkWritable(flag: string, file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) throw new UsageError(`${flag}: ${file} is a directory; expected a file path`);
  const target = info ? file : path.dirname(path.resolve(file));
  try {
    await access(target, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `${flag}: directory ${target} does not exist` : `${flag}: ${info ? file : `directory ${target}`} is not writable (${code})`,
    );
  }
}
