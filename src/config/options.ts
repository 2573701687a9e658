import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { FORMAT_NAMES, type FormatName } from '../report/renderers.js';
import { BALANCER_PLACEMENTS, RUNTIME_NAMES, type DockerSettings, type RuntimeName } from '../runtime/runtime.js';
import { stores } from '../stores/index.js';
import { ALGORITHMS, BALANCER_PROFILES, type Algorithm, type BalancerProfile } from '../balancer/settings.js';
import { chooseStrategy, STRATEGY_NAMES, type StrategyChoice } from '../strategies.js';
import { BALANCER_KINDS, type BalancerKind } from '../topology/plan.js';

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
  dockerNetwork?: string;
  /** Repeatable `KEY=IMAGE`. */
  image?: string[];
  dockerBalancer?: string;
  balancer?: string;
  balancerProfile?: string;
  algorithm?: string;
  deregistrationDelay?: string;
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
  docker: DockerSettings;
  balancer: BalancerKind;
  balancerProfile: BalancerProfile;
  algorithm: Algorithm;
  /** Overrides the profile's deregistration delay. */
  deregistrationDelayMs?: number;
}

export const DEFAULT_SCENARIOS = ['login-read', 'kill-node', 'cookie-swap'];
export const DEFAULTS = { replicas: 3, users: 30, reads: 10, concurrency: 10, requestTimeoutMs: 10_000 } as const;

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
    balancer: oneOf('--balancer', flags.balancer ?? 'hactl', BALANCER_KINDS),
    balancerProfile: oneOf('--balancer-profile', flags.balancerProfile ?? 'fast', BALANCER_PROFILES),
    algorithm: oneOf('--algorithm', flags.algorithm ?? 'round_robin', ALGORITHMS),
    // ALB's range for deregistration_delay.timeout_seconds.
    ...(flags.deregistrationDelay !== undefined ? { deregistrationDelayMs: 1_000 * parseInteger('--deregistration-delay', flags.deregistrationDelay, 0, 0, 3_600) } : {}),
    docker: {
      network: oneOf('--docker-network', flags.dockerNetwork ?? 'bridge', ['bridge', 'host'] as const),
      images: parseImages(flags.image ?? [], env),
      balancer: oneOf('--docker-balancer', flags.dockerBalancer ?? 'auto', BALANCER_PLACEMENTS),
    },
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
    throw new UsageError(`${flag}: expected ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}, got "${value}"`);
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
