import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { parseWith, readYamlFile } from './yaml-file.js';
import { UsageError } from '../errors.js';
import type { Expectation } from '../expectations/evaluate.js';
import { parseBound } from '../expectations/expression.js';
import { isFinding, metricReader, METRIC_NAMES } from '../expectations/metrics.js';
import { chooseStrategy } from '../strategies.js';
import type { RunFlags } from './options.js';

/** The file `hactl run` reads when no --config is given and it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'hactl.config.yaml';

/** What a config file holds beyond the run's flags: where reports go, and what the run must show. */
export interface ConfigFile {
  file: string;
  flags: RunFlags;
  reports: { junit?: string; html?: string; pricing?: string };
  strict?: boolean;
  expectations: Expectation[];
}

const text = z.string().min(1);
const list = z.union([text, z.array(text).min(1)]).transform((value) => (Array.isArray(value) ? value.join(',') : value));
const whole = z.number().int().transform(String);
const map = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));
const SCENARIO_NAME = /^(\*|[a-z0-9][a-z0-9-]*)$/;

/** Every `hactl run` flag, by its long name, plus reports and expectations. */
const schema = z.strictObject({
  strategy: list.optional(),
  scenario: list.optional(),
  replicas: whole.optional(),
  users: whole.optional(),
  reads: whole.optional(),
  concurrency: whole.optional(),
  seed: whole.optional(),
  port: whole.optional(),
  'request-timeout': whole.optional(),
  'startup-timeout': whole.optional(),
  preflight: z.boolean().optional(),
  'deregistration-delay': whole.optional(),
  runtime: text.optional(),
  format: text.optional(),
  out: text.optional(),
  samples: text.optional(),
  balancer: text.optional(),
  'balancer-profile': text.optional(),
  algorithm: text.optional(),
  'docker-network': text.optional(),
  'docker-balancer': text.optional(),
  image: map.optional(),
  'app-profile': text.optional(),
  'app-cmd': text.optional(),
  'app-image': text.optional(),
  'app-env': map.optional(),
  target: text.optional(),
  'kill-replica-cmd': text.optional(),
  'start-replica-cmd': text.optional(),
  'kill-store-cmd': text.optional(),
  'start-store-cmd': text.optional(),
  junit: text.optional(),
  html: text.optional(),
  pricing: text.optional(),
  strict: z.boolean().optional(),
  expect: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number()])))).optional(),
});

export async function loadConfigFile(file: string): Promise<ConfigFile> {
  return parseConfig((await readYamlFile(file, '--config: cannot read')) ?? {}, file);
}

/** The default config file, when there is one where hactl runs. */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  const file = path.join(cwd, DEFAULT_CONFIG_FILE);
  return (await stat(file).catch(() => undefined))?.isFile() ? DEFAULT_CONFIG_FILE : undefined;
}

/** Validates a parsed config and reports every problem, each as `file: path: what was expected`. */
export function parseConfig(data: unknown, file: string): ConfigFile {
  const config = parseWith(schema, data, file);
  // Paths in a config file are relative to the file, wherever hactl is run from.
  const dir = path.dirname(file);
  const relative = (value: string | undefined) => (value === undefined || path.isAbsolute(value) ? value : path.join(dir, value));
  const scenarios = config.scenario?.split(',').map((entry) => {
    const trimmed = entry.trim();
    return trimmed.includes('/') || /\.ya?ml$/.test(trimmed) ? relative(trimmed)! : trimmed;
  });

  const flags: RunFlags = {
    ...(config.strategy !== undefined ? { strategy: config.strategy } : {}),
    ...(scenarios !== undefined ? { scenario: scenarios.join(',') } : {}),
    ...defined({
      replicas: config.replicas,
      users: config.users,
      reads: config.reads,
      concurrency: config.concurrency,
      seed: config.seed,
      port: config.port,
      requestTimeout: config['request-timeout'],
      startupTimeout: config['startup-timeout'],
      preflight: config.preflight,
      deregistrationDelay: config['deregistration-delay'],
      runtime: config.runtime,
      format: config.format,
      out: relative(config.out),
      samples: relative(config.samples),
      balancer: config.balancer,
      balancerProfile: config['balancer-profile'],
      algorithm: config.algorithm,
      dockerNetwork: config['docker-network'],
      dockerBalancer: config['docker-balancer'],
      appProfile: relative(config['app-profile']),
      appCmd: config['app-cmd'],
      appImage: config['app-image'],
      target: config.target,
      killReplicaCmd: config['kill-replica-cmd'],
      startReplicaCmd: config['start-replica-cmd'],
      killStoreCmd: config['kill-store-cmd'],
      startStoreCmd: config['start-store-cmd'],
    }),
    ...(config.image ? { image: Object.entries(config.image).map(([key, value]) => `${key}=${value}`) } : {}),
    ...(config['app-env'] ? { appEnv: Object.entries(config['app-env']).map(([key, value]) => `${key}=${value}`) } : {}),
  };
  return {
    file,
    flags,
    reports: defined({ junit: relative(config.junit), html: relative(config.html), pricing: relative(config.pricing) }),
    ...(config.strict !== undefined ? { strict: config.strict } : {}),
    expectations: parseExpectations(config.expect ?? {}, file),
  };
}

function parseExpectations(expect: Record<string, Record<string, Record<string, string | number>>>, file: string): Expectation[] {
  const problems: string[] = [];
  const expectations: Expectation[] = [];
  for (const [strategy, scenarios] of Object.entries(expect)) {
    const at = `${file}: expect.${strategy}`;
    const known = strategy === '*' ? undefined : chooseStrategy(strategy);
    if (typeof known === 'string') {
      problems.push(`${at}: ${known}; expected a strategy of the run (or *)`);
      continue;
    }
    for (const [scenario, metrics] of Object.entries(scenarios)) {
      if (!SCENARIO_NAME.test(scenario)) {
        problems.push(`${at}.${scenario}: expected a scenario name (lower-case letters, digits, dashes) or *`);
        continue;
      }
      for (const [metric, value] of Object.entries(metrics)) {
        const where = `${at}.${scenario}.${metric}`;
        if (!metricReader(metric)) {
          problems.push(`${where}: unknown figure "${metric}"; expected one of ${METRIC_NAMES.join(', ')}`);
          continue;
        }
        const bound = parseBound(String(value));
        if (!bound || (bound.kind === 'finding') !== isFinding(metric)) {
          problems.push(`${where}: expected ${isFinding(metric) ? 'pass or fail' : 'a comparison such as ">= 0.99", "== 0" or "< 250"'}, got ${JSON.stringify(value)}`);
          continue;
        }
        expectations.push({ strategy, scenario, metric, bound });
      }
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return expectations;
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
