import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { formatPath } from '../platform/paths.js';
import { parseWith, readYamlFile } from '../platform/yaml-file.js';
import { phaseUnits } from '../driver/phases/index.js';
import type { ScenarioPhase } from '../driver/phase.js';
import type { Scenario } from '../driver/scenario.js';
import { didYouMean } from '../platform/did-you-mean.js';
import { UsageError } from '../platform/errors.js';
import type { CountVariables } from '../driver/count.js';
import { hasRequest, type AppProfile } from '../driver/app-profile.js';
import type { StrategyName } from '../strategies.js';
import { detectionBoundMs, type BalancerProfile, type HealthCheckSettings, type HealthDirection } from '../balancer/settings.js';

export const BUILTIN_SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export type { ScenarioPhase };

export type { Scenario, ScenarioMeasures } from '../driver/scenario.js';

/**
 * The balancer a scenario will run behind, as far as its waits are concerned: a phase that waits
 * for the balancer's health checks may not give up before they can have acted.
 */
export interface BalancerTiming {
  profile: BalancerProfile;
  healthCheck: HealthCheckSettings;
}

const fileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name of letters, digits and dashes'),
  description: z.string().min(1),
  requires: z
    .strictObject({ replicas: z.number().int().min(1).default(1), users: z.number().int().min(1).default(1) })
    .default({ replicas: 1, users: 1 }),
  phases: z
    .array(z.looseObject({ name: z.string().min(1), do: z.string().min(1) }))
    .min(1, 'expected at least one phase'),
  app: z
    .strictObject({
      resave: z.boolean().optional(),
      sessionTtlSeconds: z.number().int().min(1).max(86_400).optional(),
      regenerateOnLogin: z.boolean().optional(),
    })
    .default({}),
  measure: z
    .strictObject({
      sessionLoss: z.strictObject({ before: z.string(), after: z.string() }).optional(),
      expiry: z.strictObject({ before: z.string(), after: z.string() }).optional(),
      hangMs: z.number().int().min(1).max(600_000).optional(),
    })
    .default({}),
});

export async function builtinScenarioNames(): Promise<string[]> {
  const files = await readdir(BUILTIN_SCENARIO_DIR);
  return files.filter((file) => file.endsWith('.yaml')).map((file) => file.slice(0, -'.yaml'.length)).sort();
}

/** Whether a --scenario entry names a file (a path, or a .yaml name) rather than a built-in scenario. */
export function isScenarioFile(reference: string): boolean {
  return reference.includes('/') || /\.ya?ml$/.test(reference);
}

/** Why a scenario name is not one of `names`, naming the near ones and the rest. */
export function unknownScenario(name: string, names: readonly string[], orElse = 'or a path to a scenario .yaml file'): string {
  return `unknown scenario "${name}"${didYouMean(name, names)}; expected one of ${names.join(', ')}, ${orElse}`;
}

/**
 * A built-in scenario by name, or a scenario file by path. With the run's balancer timing, a wait
 * on the balancer shorter than its detection bound is refused here, before anything starts.
 */
export async function loadScenario(reference: string, balancer?: BalancerTiming): Promise<Scenario> {
  if (!isScenarioFile(reference)) {
    const names = await builtinScenarioNames();
    if (!names.includes(reference)) throw new UsageError(unknownScenario(reference, names));
    return loadScenarioFile(path.join(BUILTIN_SCENARIO_DIR, `${reference}.yaml`), balancer);
  }
  return loadScenarioFile(reference, balancer);
}

/**
 * The names scenario files give their rows, read before the run to check a config's expectations
 * against; undefined when a file has none to read (loading it later says what is wrong with it).
 */
export async function scenarioFileNames(files: readonly string[]): Promise<string[] | undefined> {
  const names = await Promise.all(files.map((file) => readYamlFile(file, 'cannot read scenario file').then((data) => (data as { name?: unknown } | null)?.name, () => undefined)));
  return names.every((name): name is string => typeof name === 'string') ? names : undefined;
}

export async function loadScenarioFile(file: string, balancer?: BalancerTiming): Promise<Scenario> {
  return parseScenario(await readYamlFile(file, 'cannot read scenario file'), file, balancer);
}

/** Validates a parsed scenario and reports every problem, each as `file: path: what was expected`. */
export function parseScenario(data: unknown, file: string, balancer?: BalancerTiming): Scenario {
  const problems: string[] = [];
  const raw = parseWith(fileSchema, data, file);
  const phases: ScenarioPhase[] = [];
  raw.phases.forEach((entry, index) => {
    const { name, do: kind, ...rest } = entry;
    const unit = phaseUnits[kind];
    if (!unit) {
      problems.push(`${file}: phases[${index}].do: unknown phase kind "${kind}"${didYouMean(kind, Object.keys(phaseUnits))}; expected one of ${Object.keys(phaseUnits).join(', ')}`);
      return;
    }
    const bound = unit.bind(name, rest);
    if (!bound.success) {
      for (const issue of bound.issues) problems.push(`${file}: ${formatPath(['phases', index, ...issue.path])}: ${issue.message}`);
      return;
    }
    if (phases.some((phase) => phase.name === name)) problems.push(`${file}: phases[${index}].name: "${name}" is used by an earlier phase; names must be unique`);
    const tooShort = balancer && shortWait(bound.phase.balancerWait(), balancer);
    if (tooShort) problems.push(`${file}: phases[${index}].timeoutMs: ${tooShort}`);
    phases.push(bound.phase);
  });
  for (const measure of ['sessionLoss', 'expiry'] as const) {
    const pair = raw.measure[measure];
    if (!pair) continue;
    for (const key of ['before', 'after'] as const) {
      const phase = phases.find((candidate) => candidate.name === pair[key]);
      if (!phase) problems.push(`${file}: measure.${measure}.${key}: no phase named "${pair[key]}"`);
      else if (!phase.unit.ownSessionReads) problems.push(`${file}: measure.${measure}.${key}: phase "${pair[key]}" must be a read phase`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { name: raw.name, description: raw.description, file, requires: raw.requires, app: raw.app, phases, measure: raw.measure };
}

/**
 * Why a scenario's own bound on a wait for the balancer cannot work: with ALB's timings a dead
 * replica stays in rotation for up to 70 s, so a wait of 15 s would fail every run, on every
 * strategy, as an error that says nothing about sessions.
 */
function shortWait(wait: { direction: HealthDirection; timeoutMs?: number } | undefined, balancer: BalancerTiming): string | undefined {
  if (wait?.timeoutMs === undefined) return undefined;
  const bound = detectionBoundMs(balancer.healthCheck, wait.direction);
  if (wait.timeoutMs >= bound) return undefined;
  return `${wait.timeoutMs} ms is shorter than the ${balancer.profile} balancer profile's detection bound of ${bound} ms; remove it or raise it`;
}

/**
 * Checks a scenario against the run's settings before anything starts. Returns why the scenario
 * cannot run with these settings (its rows are then skipped), or undefined.
 */
export function scenarioConflict(scenario: Scenario, counts: CountVariables, cluster: { store?: string; strategy: string }): string | undefined {
  const needsStore = scenario.phases.find((phase) => phase.unit.needsStore);
  if (needsStore && !cluster.store) {
    return `${scenario.name} needs a session store (phase "${needsStore.name}"); strategy ${cluster.strategy} keeps sessions in replica memory`;
  }
  if (counts.replicas < scenario.requires.replicas) {
    return `${scenario.name} needs at least ${scenario.requires.replicas} replicas (this run has ${counts.replicas})`;
  }
  if (counts.users < scenario.requires.users) {
    return `${scenario.name} needs at least ${scenario.requires.users} users (this run has ${counts.users})`;
  }
  const after = scenario.measure.sessionLoss?.after;
  const phase = scenario.phases.find((candidate) => candidate.name === after);
  const reads = phase?.readsPerUser(counts);
  // DESIGN.md: a session counts as lost only after K >= 2 x replicas reads without a hit,
  // so round robin cannot hide a surviving copy.
  if (reads !== undefined && reads < 2 * counts.replicas) {
    return `${scenario.name}: phase "${after}" makes ${reads} reads per user; session loss needs at least 2 x replicas = ${2 * counts.replicas}`;
  }
  return undefined;
}

/** The demo app's own settings, which a scenario's `app:` block may change. */
const DEMO_APP_DEFAULTS = { resave: false, regenerateOnLogin: true } as const;

/**
 * Checks a scenario against the app under test: the requests its phases send, the strategies the
 * app supports, and demo app settings a user's app cannot be given. Returns why its rows are
 * skipped, or undefined.
 */
export function appConflict(scenario: Scenario, profile: AppProfile, app: { custom: boolean; strategy: StrategyName }): string | undefined {
  const unsupported = strategyConflict(profile, app.strategy);
  if (unsupported) return unsupported;
  for (const phase of scenario.phases) {
    // An independent check without its request is n/a on its own (missingRequestFindings), not the scenario.
    if (phase.unit.check) continue;
    const missing = phase.unit.needsRequests?.find((request) => !hasRequest(profile, request));
    if (missing) return `${scenario.name} sends the app's ${missing} request (phase "${phase.name}"); the app profile "${profile.name}" has none`;
  }
  if (app.custom) {
    // A setting that keeps the demo app's default changes nothing the scenario measures; the
    // idle timeout matters only where the scenario's waits are built on it (expiry; security
    // waits out the profile's instead).
    const changed = (['resave', 'regenerateOnLogin'] as const).filter((key) => scenario.app[key] !== undefined && scenario.app[key] !== DEMO_APP_DEFAULTS[key]);
    const demoOnly = [...changed, ...(scenario.app.sessionTtlSeconds !== undefined && scenario.measure.expiry ? ['sessionTtlSeconds'] : [])];
    if (demoOnly.length > 0) return `${scenario.name} sets the demo app's ${demoOnly.join(' and ')}; the app under test keeps its own session settings`;
  }
  return undefined;
}

/** Why the app cannot run with this strategy at all (its profile lists the ones it can), or undefined. */
export function strategyConflict(profile: AppProfile, strategy: StrategyName): string | undefined {
  if (!profile.strategies || profile.strategies.includes(strategy)) return undefined;
  return `the app profile "${profile.name}" keeps sessions with ${profile.strategies.join(', ')} only, not ${strategy}`;
}
