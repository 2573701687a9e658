import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { didYouMean } from '../did-you-mean.js';
import { ID_SAMPLE_RANGE } from '../driver/phases/security-id-quality.js';
import { UsageError } from '../errors.js';
import { FORMAT_NAMES, type FormatName } from '../report/renderers.js';
import { FAULT_COMMAND_FIELDS, VERIFY_COMMAND_FIELDS } from '../runtime/fault-command.js';
import { BALANCER_PLACEMENTS, RUNTIME_NAMES, type DockerSettings, type ExternalSettings, type RuntimeName } from '../runtime/runtime.js';
import { stores } from '../stores/index.js';
import { ALGORITHMS, BALANCER_PROFILES, type Algorithm, type BalancerProfile } from '../balancer/settings.js';
import { chooseStrategy, STRATEGY_NAMES, type StrategyChoice } from '../strategies.js';
import { BALANCER_KINDS, REPLICA_TEMPLATE_FIELDS, unknownReplicaFields, type BalancerKind } from '../topology/plan.js';

/** The flags of `hactl run` as commander hands them over: strings, or undefined when absent. */
export interface RunFlags {
  strategy?: string;
  scenario?: string;
  replicas?: string;
  users?: string;
  reads?: string;
  concurrency?: string;
  runtime?: string;
  format?: string;
  out?: string;
  samples?: string;
  seed?: string;
  port?: string;
  requestTimeout?: string;
  startupTimeout?: string;
  /** commander's --no-preflight: false when given. */
  preflight?: boolean;
  dockerNetwork?: string;
  /** Repeatable `KEY=IMAGE`. */
  image?: string[];
  dockerBalancer?: string;
  balancer?: string;
  balancerProfile?: string;
  algorithm?: string;
  deregistrationDelay?: string;
  appProfile?: string;
  appCmd?: string;
  appImage?: string;
  /** Repeatable `KEY=VALUE`. */
  appEnv?: string[];
  target?: string;
  killReplicaCmd?: string;
  startReplicaCmd?: string;
  killStoreCmd?: string;
  startStoreCmd?: string;
  /** Requests per second, at most, from hactl to the app. */
  rate?: string;
  /** commander's --warm-up / --no-warm-up: absent, the runtime's default. */
  warmUp?: boolean;
  idSample?: string;
  verifyCmd?: string;
  storeReadyCmd?: string;
  faultTimeout?: string;
}

/** --runtime external: the deployment's address and the user's fault commands (the health path comes from the app profile). */
export type ExternalFlags = Omit<ExternalSettings, 'healthPath'>;

const EXTERNAL_FLAGS = { target: '--target', killReplicaCmd: '--kill-replica-cmd', startReplicaCmd: '--start-replica-cmd', killStoreCmd: '--kill-store-cmd', startStoreCmd: '--start-store-cmd', verifyCmd: '--verify-cmd', storeReadyCmd: '--store-ready-cmd', faultTimeout: '--fault-timeout' } as const;

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
  runtime: RuntimeName;
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
  docker: DockerSettings;
  balancer: BalancerKind;
  balancerProfile: BalancerProfile;
  algorithm: Algorithm;
  /** Overrides the profile's deregistration delay. */
  deregistrationDelayMs?: number;
  app: AppFlags;
  external?: ExternalFlags;
  /** --rate: at most this many requests a second to the app (absent: no limit). */
  rate?: number;
  /** Throwaway users warm the replicas up before each scenario: on, except for --runtime external. */
  warmUp: boolean;
  /** --id-sample: the id-quality check's logins (absent: the scenario's, 1,000 in security). */
  idSample?: number;
}

export const DEFAULT_SCENARIOS = ['login-read', 'kill-node', 'cookie-swap'];
export const DEFAULTS = { replicas: 3, users: 30, reads: 10, concurrency: 10, requestTimeoutMs: 10_000, startupTimeoutSeconds: 60 } as const;

/** Image keys for --image: the demo app's Node base image, one per store, and HAProxy's. */
export const IMAGE_KEYS = ['node', ...Object.values(stores).map((store) => store.docker.image.key), 'haproxy'];

/**
 * Turns flags into settings, or throws a UsageError naming the flag, what it got and what it
 * expects. `env` supplies HACTL_IMAGE_<KEY> image overrides, which --image flags override.
 */
export function parseRunFlags(flags: RunFlags, env: NodeJS.ProcessEnv = {}): RunSettings {
  const runtime = oneOf('--runtime', flags.runtime ?? 'local', RUNTIME_NAMES);
  const dockerFlags = ['dockerNetwork', 'image', 'dockerBalancer'].filter((key) => flags[key as keyof RunFlags] !== undefined);
  if (runtime !== 'docker' && dockerFlags.length > 0) {
    throw new UsageError(`--image, --docker-network and --docker-balancer apply to --runtime docker; this run uses --runtime ${runtime}`);
  }
  const external = parseExternalFlags(flags, runtime);
  return {
    strategies: parseStrategies(flags.strategy ?? 'all'),
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
    // A deployment's own balancer has timings hactl cannot read: its waits on it are bounded by
    // ALB's defaults, the slowest profile, so that a real ALB is given the minute it takes.
    balancerProfile: runtime === 'external' ? 'alb' : oneOf('--balancer-profile', flags.balancerProfile ?? 'fast', BALANCER_PROFILES),
    algorithm: oneOf('--algorithm', flags.algorithm ?? 'round_robin', ALGORITHMS),
    // ALB's range for deregistration_delay.timeout_seconds.
    ...(flags.deregistrationDelay !== undefined ? { deregistrationDelayMs: 1_000 * parseInteger('--deregistration-delay', flags.deregistrationDelay, 0, 0, 3_600) } : {}),
    docker: {
      network: oneOf('--docker-network', flags.dockerNetwork ?? 'bridge', ['bridge', 'host'] as const),
      images: parseImages(flags.image ?? [], env),
      balancer: oneOf('--docker-balancer', flags.dockerBalancer ?? 'auto', BALANCER_PLACEMENTS),
    },
    app: parseAppFlags(flags, runtime),
    ...(external ? { external } : {}),
    ...parseLoadFlags(flags, runtime),
  };
}

/**
 * --runtime external tests a deployment hactl did not build: one strategy (the one it uses), its
 * own balancer, and faults only through the user's commands.
 */
export function parseExternalFlags(flags: RunFlags, runtime: RuntimeName): ExternalFlags | undefined {
  const given = (Object.keys(EXTERNAL_FLAGS) as (keyof typeof EXTERNAL_FLAGS)[]).filter((key) => flags[key] !== undefined);
  if (runtime !== 'external') {
    if (given.length > 0) throw new UsageError(`${given.map((key) => EXTERNAL_FLAGS[key]).join(', ')}: apply to --runtime external; this run uses --runtime ${runtime}`);
    return undefined;
  }
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
  const commands: Partial<ExternalFlags> = {};
  for (const key of ['killReplicaCmd', 'startReplicaCmd', 'killStoreCmd', 'startStoreCmd', 'verifyCmd', 'storeReadyCmd'] as const) {
    const command = flags[key];
    if (command === undefined) continue;
    const fields: readonly string[] = key === 'verifyCmd' ? VERIFY_COMMAND_FIELDS : FAULT_COMMAND_FIELDS;
    const unknown = unknownReplicaFields(command, fields);
    if (command.trim() === '' || unknown.length > 0) {
      throw new UsageError(`${EXTERNAL_FLAGS[key]}: ${command.trim() === '' ? 'expected a shell command, got an empty one' : `unknown field ${unknown.map((field) => `{${field}}`).join(', ')}`}; it may use ${fields.map((field) => `{${field}}`).join(', ')}`);
    }
    commands[key] = command;
  }
  if (commands.storeReadyCmd !== undefined && commands.killStoreCmd === undefined) throw new UsageError('--store-ready-cmd: give --kill-store-cmd too; hactl asks whether the store is back only after killing it');
  if (flags.faultTimeout !== undefined) commands.faultTimeoutMs = 1_000 * parseInteger('--fault-timeout', flags.faultTimeout, 120, 1, 3_600);
  if (commands.startReplicaCmd !== undefined && commands.killReplicaCmd === undefined) throw new UsageError('--start-replica-cmd: give --kill-replica-cmd too; hactl starts only replicas it killed');
  if (commands.startStoreCmd !== undefined && commands.killStoreCmd === undefined) throw new UsageError('--start-store-cmd: give --kill-store-cmd too; hactl starts the store only after killing it');
  return { target: url.origin, ...commands };
}

/** The most --rate allows: far beyond what one hactl process can send. */
const MAX_RATE = 1_000_000;

/**
 * How much load a run puts on the app, and what it leaves there: a deployment's (--runtime
 * external) is nobody's to warm up unasked.
 */
export function parseLoadFlags(flags: Pick<RunFlags, 'rate' | 'warmUp' | 'idSample'>, runtime: RuntimeName): Pick<RunSettings, 'rate' | 'warmUp' | 'idSample'> {
  return {
    ...(flags.rate !== undefined ? { rate: parseInteger('--rate', flags.rate, 0, 1, MAX_RATE) } : {}),
    warmUp: flags.warmUp ?? runtime !== 'external',
    ...(flags.idSample !== undefined ? { idSample: parseInteger('--id-sample', flags.idSample, 0, ID_SAMPLE_RANGE.min, ID_SAMPLE_RANGE.max) } : {}),
  };
}

/** --app-cmd starts replicas as processes (local), --app-image as containers (docker); --app-env goes with either. */
export function parseAppFlags(flags: Pick<RunFlags, 'appProfile' | 'appCmd' | 'appImage' | 'appEnv'>, runtime: RuntimeName): AppFlags {
  if (flags.appCmd !== undefined && flags.appImage !== undefined) throw new UsageError('--app-cmd and --app-image: give one; --app-cmd runs each replica as a process (--runtime local), --app-image as a container (--runtime docker)');
  if (flags.appCmd !== undefined && runtime !== 'local') throw new UsageError(`--app-cmd applies to --runtime local; with --runtime ${runtime} use ${runtime === 'docker' ? '--app-image IMAGE' : '--target URL'}`);
  if (flags.appImage !== undefined && runtime !== 'docker') throw new UsageError(`--app-image applies to --runtime docker; with --runtime ${runtime} use ${runtime === 'local' ? '--app-cmd "COMMAND"' : '--target URL'}`);
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

export function parseImages(pairs: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const images: Record<string, string> = {};
  for (const key of IMAGE_KEYS) {
    const fromEnv = env[`HACTL_IMAGE_${key.toUpperCase()}`];
    if (fromEnv) images[key] = fromEnv;
  }
  for (const pair of pairs) {
    const match = /^([a-z]+)=(\S+)$/.exec(pair.trim());
    if (!match || !IMAGE_KEYS.includes(match[1]!)) {
      throw new UsageError(`--image: expected KEY=IMAGE with KEY one of ${IMAGE_KEYS.join(', ')}, got "${pair}"`);
    }
    images[match[1]!] = match[2]!;
  }
  return images;
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

export function parseInteger(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const trimmed = value.trim();
  const number = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: expected ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}, got "${value}"${didYouMean(value, allowed)}`);
  }
  return value as T;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

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
