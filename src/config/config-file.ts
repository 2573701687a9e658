import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { issueLine, readYamlFile } from '../platform/yaml-file.js';
import { builtinScenarioNames, isScenarioFile, scenarioFileNames, unknownScenario } from './scenario.js';
import { didYouMean } from '../platform/did-you-mean.js';
import { UsageError } from '../platform/errors.js';
import type { Expectation } from '../expectations/evaluate.js';
import { parseBound } from '../expectations/expression.js';
import { isFinding, metricProblem } from '../expectations/metrics.js';
import { chooseStrategy } from '../strategies.js';
import { isBundledPricingName } from '../report/pricing.js';
import { COMMAND_FLAGS, configKey, DEFAULT_CONFIG_FILE, RUN_FLAGS, type RunFlags } from './flags.js';
import type { FlagSpec } from '../platform/flag.js';

export { DEFAULT_CONFIG_FILE };

/** What a config file holds beyond the run's flags: where reports go, and what the run must show. */
export interface ConfigFile {
  file: string;
  /** The folder its paths and commands are relative to: the file's own, as an absolute path. */
  dir: string;
  flags: RunFlags;
  reports: { junit?: string; html?: string; pricing?: string };
  strict?: boolean;
  /** fail-on-findings: a failed security finding fails the run, as a failed expectation does. */
  failOnFindings?: boolean;
  expectations: Expectation[];
}

const text = z.string().min(1);
const list = z.union([text, z.array(text).min(1)]).transform((value) => (Array.isArray(value) ? value.join(',') : value));
const whole = z.number().int().transform(String);
/**
 * A repeatable KEY=VALUE flag: a map, or the flag's own form as a list (`- REDIS_URL={redisUrl}`),
 * which is what "every flag by its long name" suggests for a flag given more than once.
 */
const map = z.union([
  z.record(z.string(), z.union([z.string(), z.number()]).transform(String)),
  z
    .array(z.string().regex(/^[^=]+=/, 'expected KEY=VALUE'))
    .transform((pairs) => Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))),
]);
const SCENARIO_NAME = /^(\*|[a-z0-9][a-z0-9-]*)$/;
/** `expect:` strategy (or *), scenario (or *), figure, bound. */
const expectSchema = z.record(z.string(), z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number()]))));

/** What a config file may hold for a flag, by the kind of value the flag takes. */
const FORMS: Record<FlagSpec['value'], z.ZodType> = { text, list, whole, switch: z.boolean(), pairs: map };

/** The flags the config file holds, by key: the flag table's, except those marked `config: false`. */
const fileFlags = (flags: readonly FlagSpec[]) => flags.flatMap((flag) => (configKey(flag) === undefined ? [] : [[configKey(flag)!, flag] as const]));
/** The run's settings, which the file turns into RunFlags. */
const RUN_KEYS = fileFlags(RUN_FLAGS);
/** Reports and what fails the run, which it keeps beside them. */
const COMMAND_KEYS = fileFlags(COMMAND_FLAGS);

/** Every `hactl run` flag, by its long name, plus reports and expectations. */
const schema = z.strictObject({
  ...Object.fromEntries([...RUN_KEYS, ...COMMAND_KEYS].map(([key, flag]) => [key, FORMS[flag.value].optional()])),
  expect: expectSchema.optional(),
});

const CONFIG_KEYS = Object.keys(schema.shape);

/**
 * Reads and validates a config file. `scenarioFiles` are scenario files given on the command line,
 * whose names its expectations may use beside the built-in ones and those of its own files.
 */
export async function loadConfigFile(file: string, scenarioFiles: readonly string[] = []): Promise<ConfigFile> {
  const data = (await readYamlFile(file, '--config: cannot read')) ?? {};
  const own = listEntries((data as { scenario?: unknown }).scenario).filter(isScenarioFile).map((entry) => relativeTo(file, entry));
  const named = await scenarioFileNames([...own, ...scenarioFiles]);
  return parseConfig(data, file, named && { scenarios: [...(await builtinScenarioNames()), ...named] });
}

/** The default config file, when there is one where hactl runs. */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  const file = path.join(cwd, DEFAULT_CONFIG_FILE);
  return (await stat(file).catch(() => undefined))?.isFile() ? DEFAULT_CONFIG_FILE : undefined;
}

/** Names a config's expectations are checked against: the scenarios whose rows a run may have. */
export interface KnownNames {
  scenarios: readonly string[];
}

/**
 * Validates a parsed config and reports every problem at once, each as `file: path: what was
 * expected`, with the names near a mistyped one. Scenario names are checked only when `known`
 * says which exist (a scenario file that could not be read has a name nobody knows yet).
 */
export function parseConfig(data: unknown, file: string, known?: KnownNames): ConfigFile {
  const parsed = schema.safeParse(data);
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((issue) => schemaProblems(file, issue));
  // Each part is checked on its own too, so that a wrong key elsewhere hides none of its problems.
  const raw = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const strategies = list.optional().safeParse(raw.strategy);
  if (strategies.success) problems.push(...strategyProblems(file, strategies.data));
  const scenarioList = list.optional().safeParse(raw.scenario);
  if (scenarioList.success && known) problems.push(...scenarioProblems(file, scenarioList.data, known));
  const expect = expectSchema.optional().safeParse(raw.expect);
  const expectations = expect.success ? parseExpectations(expect.data ?? {}, file, known, problems) : [];
  if (problems.length > 0 || !parsed.success) throw new UsageError(problems.join('\n'));
  const config = parsed.data as Record<string, unknown>;

  const relative = (value: string | undefined) => (value === undefined ? value : relativeTo(file, value));
  // A bundled pricing file's name (`pricing: aws-us-east-1`) is no path, and stays as written.
  const pricingAt = (value: string | undefined) => (value !== undefined && isBundledPricingName(value) ? value : relative(value));
  const flags: RunFlags = {};
  for (const [key, flag] of RUN_KEYS) {
    const value = config[key];
    if (value === undefined) continue;
    if (flag.key === 'scenario') {
      // A scenario file is relative to the config file; a built-in scenario's name is not.
      (flags as Record<string, unknown>).scenario = listEntries(value).map((entry) => (isScenarioFile(entry) ? relativeTo(file, entry) : entry)).join(',');
    } else if (flag.value === 'pairs') {
      (flags as Record<string, unknown>)[flag.key] = Object.entries(value as Record<string, string>).map(([name, pair]) => `${name}=${pair}`);
    } else {
      (flags as Record<string, unknown>)[flag.key] = flag.key === 'pricing' ? pricingAt(value as string) : flag.path ? relative(value as string) : value;
    }
  }
  const textAt = (key: string) => config[key] as string | undefined;
  const switchAt = (key: string) => config[key] as boolean | undefined;
  return {
    file,
    dir: path.resolve(path.dirname(file)),
    flags,
    reports: defined({ junit: relative(textAt('junit')), html: relative(textAt('html')), pricing: pricingAt(textAt('pricing')) }),
    ...(switchAt('strict') !== undefined ? { strict: switchAt('strict')! } : {}),
    ...(switchAt('fail-on-findings') !== undefined ? { failOnFindings: switchAt('fail-on-findings')! } : {}),
    expectations,
  };
}

/**
 * Paths and commands in a config file are relative to the file, wherever hactl is run from: a
 * path is joined to its folder here, and a command runs in it (commandDir).
 */
function relativeTo(file: string, value: string): string {
  return path.isAbsolute(value) ? value : path.join(path.dirname(file), value);
}

/**
 * Where a command flag's command runs: the config file's folder when the command came from the
 * file, the working directory when it was typed on the command line (`given`, as mergeFlags takes it).
 */
export function commandDir(config: ConfigFile | undefined, key: keyof RunFlags, given: ReadonlySet<string>, cwd: string): string {
  return config !== undefined && !given.has(key) && config.flags[key] !== undefined ? config.dir : cwd;
}

/** The entries of a `strategy:` or `scenario:` list, which may also be one comma-separated string. */
function listEntries(value: unknown): string[] {
  const entries = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
  return entries.flatMap((entry) => entry.split(',')).map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

/** A schema problem as lines; a misspelt key names the key it meant. */
function schemaProblems(file: string, issue: z.core.$ZodIssue): string[] {
  if (issue.code !== 'unrecognized_keys' || issue.path.length > 0) return [issueLine(file, issue)];
  return issue.keys.map((key) => issueLine(file, { path: [], message: `Unrecognized key: "${key}"${didYouMean(key, CONFIG_KEYS)}` }));
}

function strategyProblems(file: string, value: string | undefined): string[] {
  return listEntries(value)
    .filter((name) => name !== 'all')
    .map(chooseStrategy)
    .filter((choice): choice is string => typeof choice === 'string')
    .map((problem) => `${file}: strategy: ${problem}`);
}

function scenarioProblems(file: string, value: string | undefined, known: KnownNames): string[] {
  return listEntries(value)
    .filter((name) => name !== 'all' && !isScenarioFile(name) && !known.scenarios.includes(name))
    .map((name) => `${file}: scenario: ${unknownScenario(name, known.scenarios)}`);
}

/** The expectations under `expect:`, every problem with them added to `problems`. */
function parseExpectations(expect: z.output<typeof expectSchema>, file: string, known: KnownNames | undefined, problems: string[]): Expectation[] {
  const expectations: Expectation[] = [];
  for (const [strategy, scenarios] of Object.entries(expect)) {
    const at = `${file}: expect.${strategy}`;
    const choice = strategy === '*' ? undefined : chooseStrategy(strategy);
    // An unknown strategy is one problem; what is written under it is still checked.
    if (typeof choice === 'string') problems.push(`${at}: ${choice}; expected a strategy of the run (or *)`);
    for (const [scenario, metrics] of Object.entries(scenarios)) {
      if (!SCENARIO_NAME.test(scenario)) {
        problems.push(`${at}.${scenario}: expected a scenario name (lower-case letters, digits, dashes) or *`);
      } else if (scenario !== '*' && known && !known.scenarios.includes(scenario)) {
        problems.push(`${at}.${scenario}: ${unknownScenario(scenario, known.scenarios, 'or *')}`);
      }
      for (const [metric, value] of Object.entries(metrics)) {
        const where = `${at}.${scenario}.${metric}`;
        const problem = metricProblem(metric);
        if (problem) {
          problems.push(`${where}: ${problem}`);
          continue;
        }
        const bound = parseBound(String(value));
        if (!bound || (bound.kind === 'finding') !== isFinding(metric)) {
          const comparison = 'a comparison such as ">= 0.99", "== 0" or "< 250"';
          // n/a is a finding's verdict (a check that could not be made); a number is always measured or missing.
          if (bound?.kind === 'finding' && bound.passed === null) problems.push(`${where}: n/a is a bound for findings (finding.<id>) only; ${metric} is a number: expected ${comparison}`);
          else problems.push(`${where}: expected ${isFinding(metric) ? 'pass, fail or n/a' : comparison}, got ${JSON.stringify(value)}`);
          continue;
        }
        expectations.push({ strategy, scenario, metric, bound });
      }
    }
  }
  return expectations;
}

function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
