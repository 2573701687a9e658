import { randomBytes } from 'node:crypto';
import { appConflict, scenarioConflict, strategyConflict, type Scenario } from './config/scenario.js';
import type { StoreSettings } from './config/options.js';
import type { CountVariables } from './driver/count.js';
import type { AppProfile } from './driver/app-profile.js';
import { commandEvidence, type Fault, type Sample } from './driver/records.js';
import { runScenario, type ScenarioActivity } from './driver/scenario-runner.js';
import { countsInHitRate } from './driver/phase.js';
import { EnvironmentError, errorMessage, StoreLostError, StoreUnusedError, UsageError } from './platform/errors.js';
import { aggregate, withoutSession } from './metrics/aggregate.js';
import { RunOverhead } from './runtime/overhead.js';
import { suspectFaultEvidence } from './metrics/fault-evidence.js';
import { noHitEvidence } from './metrics/hit-evidence.js';
import { storeFailoverWarnings } from './metrics/store-failover.js';
import { replicasSeenMessage } from './metrics/replicas-seen.js';
import { preflight, preflightFailure, type PreflightStep } from './preflight.js';
import { describeProbe, healthCheckVerdict } from './runtime/health-check-probe.js';
import { unstableHealth } from './metrics/unstable-health.js';
import { failedLoginsWarning } from './report/failed-logins.js';
import { stopEach } from './platform/teardown.js';
import type { RunActivity, RunEvent } from './report/events.js';
import { SCHEMA_VERSION, type RowWarning, type Report, type ReportSettings, type ResultRow, type RowTimings } from './report/model.js';
import { assertPortFree } from './platform/ports.js';
import type { ChosenRuntime, Cluster, ClusterControl, Runtime, StoreProxy } from './runtime/runtime.js';
import type { Algorithm, BalancerProfile } from './balancer/settings.js';
import { defaultChoice, strategyRegistry, variantRecord, type StrategyChoice } from './strategies.js';
import { stores, type RunningStore } from './stores/index.js';
import { chooseNode, nodeChoiceProblems, proxiedNode, throughProxy } from './stores/node-choice.js';
import { restartable } from './stores/store.js';
import { planTopology, type BalancerKind, type CustomApp, type Topology } from './topology/plan.js';
import { VERSION } from './platform/version.js';
import { RateLimiter } from './platform/rate-limit.js';
import { describeLogouts, sessionsLeftWarning, type LogoutResult } from './driver/logout.js';

export interface RunOptions {
  strategies: StrategyChoice[];
  scenarios: Scenario[];
  replicas: number;
  users: number;
  reads: number;
  concurrency: number;
  seed: number;
  /** Where the cluster runs, with that runtime's own settings and what it says about the run (warm-up, logouts, overhead). */
  runtime: ChosenRuntime;
  balancerPort: number;
  requestTimeoutMs: number;
  balancer?: BalancerKind;
  balancerProfile?: BalancerProfile;
  algorithm?: Algorithm;
  deregistrationDelayMs?: number;
  /** How to talk to the app (the demo app's profile unless --app-profile). */
  profile: AppProfile;
  /** The user's own app, when the replicas are not the demo app. */
  customApp?: CustomApp;
  /** Check the app (start, health, login, read, store) on the first strategy before any row; default on. */
  preflight?: boolean;
  /** --rate: at most this many requests a second from hactl to the app (absent: no limit). */
  rate?: number;
  /** Warm the replicas up before each scenario (absent: the runtime's default). */
  warmUp?: boolean;
  /** --id-sample: the id-quality check's logins. */
  idSample?: number;
  /** Replicated store variants: replicas, failover profile, the replica-lag scenario's delay (absent: their defaults). */
  store?: StoreSettings;
}

export type { RunActivity, RunEvent };

export interface RunHooks {
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  onEvent?(event: RunEvent): void;
  onActivity?(activity: RunActivity): void;
  /** Every request of a row, once the row is done (for --samples). */
  onSamples?(strategy: string, samples: readonly Sample[]): void | Promise<void>;
}

/**
 * One run: for each strategy, its store (if any) once; for each scenario, a fresh cluster of
 * replicas and balancer, the scenario, and the row it yields. Everything started is stopped
 * before this returns or throws, including on abort.
 *
 * A store that is not installed skips its strategy's rows; one that fails to start, a cluster
 * that fails to start, or a scenario that fails mid-way gives `error` rows while the rest of
 * the run goes on. Only a balancer port the user asked for and cannot have ends the run early.
 */
export async function run(options: RunOptions, hooks: RunHooks): Promise<Report> {
  const runId = randomBytes(4).toString('hex');
  const startedAt = new Date();
  const emit = hooks.onEvent ?? (() => {});
  const counts: CountVariables = { reads: options.reads, replicas: options.replicas, users: options.users };
  const results: ResultRow[] = [];
  const addRow = (row: ResultRow) => {
    results.push(row);
    emit({ type: 'row', row });
  };

  hooks.signal.throwIfAborted();
  checkStoreChoices(options);
  // What the balancer adds, stated beside the latencies; a deployment's own balancer has no direct path to compare.
  const overhead = new RunOverhead(options.runtime.measuresOverhead);
  if (options.balancerPort !== 0) await assertPortFree(options.balancerPort, '--port');
  emit({ type: 'run-start', runId, seed: options.seed });
  const load = loadOf(options);
  const runtime = await createRuntime(options, runId, hooks, load.limiter);
  const addRows = (strategy: string, fields: Omit<ResultRow, 'strategy' | 'scenario'>) =>
    options.scenarios.forEach((scenario) => addRow({ strategy, scenario: scenario.name, ...fields }));
  // A problem of the app itself (it does not start, its login fails) found by the pre-flight or
  // by a row of a strategy without a store: every later row would show the same, at full cost.
  const halt: Halt = {};
  try {
    const balancerProblem = await runtime.checkBalancer(options.balancer ?? 'hactl');
    // On an external deployment too: no fault command may be fired at a target that does not answer, log in and read.
    const preflightOn = options.preflight !== false && balancerProblem.available;
    // Checked once, before any row, on a strategy without a store, where a failure can only be
    // the app's: it halts the run. Without one, each store strategy is checked before its rows.
    const storeless = preflightOn ? options.strategies.find((choice) => !choice.strategy.store && !strategyConflict(options.profile, choice.strategy.name)) : undefined;
    // The strategy the pre-flight failed on, with the rows that say how.
    let preflightFailed: { strategy: string; rows: Omit<ResultRow, 'strategy' | 'scenario'> } | undefined;
    if (storeless) {
      const failed = preflightFailure(await preflightSteps(storeless, runtime, options, hooks, undefined, load));
      if (failed) {
        preflightFailed = { strategy: storeless.label, rows: { status: 'error', reason: failed.reason, ...(failed.fix ? { fix: failed.fix } : {}) } };
        halt.reason = `not run: the pre-flight on ${storeless.label} failed at its ${failed.step} step (see its rows)`;
      }
    }
    for (const choice of options.strategies) {
      hooks.signal.throwIfAborted();
      if (!balancerProblem.available) addRows(choice.label, { status: 'skipped', reason: balancerProblem.reason, fix: balancerProblem.fix });
      else if (preflightFailed?.strategy === choice.label) addRows(choice.label, preflightFailed.rows);
      else if (halt.reason) addRows(choice.label, { status: 'skipped', reason: halt.reason });
      else await runStrategy(choice, runtime, options, counts, hooks, addRow, overhead, halt, preflightOn && !storeless, load);
    }
  } catch (error) {
    if (!hooks.signal.aborted) throw error;
    // Stopped by a signal: the rows that finished are results, and the report still says so;
    // the row in progress and those not begun are marked, not dropped.
    const done = new Set(results.map((row) => `${row.strategy}\u0000${row.scenario}`));
    const reason = errorMessage(hooks.signal.reason);
    for (const choice of options.strategies) {
      for (const scenario of options.scenarios) {
        if (!done.has(`${choice.label}\u0000${scenario.name}`)) results.push({ strategy: choice.label, scenario: scenario.name, status: 'interrupted', reason });
      }
    }
  } finally {
    // A runtime that did not close cleanly still leaves the report of the rows it ran.
    teardownFailed(results.at(-1), await stopEach([{ what: `the ${options.runtime.name} runtime`, stop: () => runtime.close() }]), emit);
  }

  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'hactl', version: VERSION },
    runId,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    settings: {
      strategies: options.strategies.map((choice) => choice.label),
      strategyVariants: options.strategies.map((choice) => ({ ...variantRecord(choice), ...storeNodesOf(choice, options) })),
      scenarios: options.scenarios.map((scenario) => scenario.name),
      replicas: options.replicas,
      users: options.users,
      reads: options.reads,
      concurrency: options.concurrency,
      seed: options.seed,
      runtime: options.runtime.name,
      ...options.runtime.report().settings,
      app: {
        profile: options.profile.name,
        profileSource: options.profile.source,
        ...(options.customApp?.command !== undefined ? { command: options.customApp.command } : {}),
        ...(options.customApp?.image !== undefined ? { image: options.customApp.image } : {}),
        ...options.runtime.report().app,
      },
      requestTimeoutMs: options.requestTimeoutMs,
      warmUp: load.warmUp,
      ...(options.rate !== undefined ? { rate: options.rate } : {}),
      ...(options.idSample !== undefined ? { idSample: options.idSample } : {}),
      ...(options.store && options.strategies.some((choice) => choice.variant.replication !== undefined) ? { store: options.store } : {}),
      ...(options.profile.accountsSource !== undefined ? { accounts: options.profile.accountsSource } : {}),
      balancer: balancerSummary(options, overhead),
    },
    results,
  };
}

/** How much load a run puts on the app and what it leaves there, for every scenario and pre-flight of the run. */
interface Load {
  /** One per run: every driver of the run shares its budget. */
  limiter?: RateLimiter;
  warmUp: boolean;
  /** Every session a scenario made is logged out at its end: a deployment's store keeps nothing of the run's. */
  logOut: boolean;
}

function loadOf(options: RunOptions): Load {
  return {
    ...(options.rate !== undefined ? { limiter: new RateLimiter(options.rate) } : {}),
    warmUp: options.warmUp ?? options.runtime.warmUpByDefault,
    logOut: options.runtime.logsOutUsers && options.profile.logout !== undefined,
  };
}

/** The topology of one strategy's cluster for one scenario (which may set the app's session settings). */
function topologyFor(choice: StrategyChoice, options: RunOptions, scenario?: Scenario): Topology {
  return planTopology(choice, {
    replicas: options.replicas,
    balancerPort: options.balancerPort,
    // The balancer gives up first, so a hung replica shows as a 504 tagged with its name rather
    // than as an anonymous client timeout.
    upstreamTimeoutMs: Math.max(100, Math.floor(options.requestTimeoutMs / 2)),
    balancer: options.balancer ?? 'hactl',
    profile: options.balancerProfile ?? 'fast',
    algorithm: options.algorithm ?? 'round_robin',
    ...(options.deregistrationDelayMs !== undefined ? { deregistrationDelayMs: options.deregistrationDelayMs } : {}),
    ...(scenario ? { app: testsOwnApp(options) ? {} : scenario.app } : {}),
    cookieName: options.profile.cookieName,
    healthPath: options.profile.healthPath,
    ...(options.customApp ? { custom: options.customApp } : {}),
    ...(options.store ? { store: { ...(options.store.replicas !== undefined ? { replicas: options.store.replicas } : {}), failoverProfile: options.store.failoverProfile } } : {}),
  });
}

/**
 * The balancer settings the run's clusters used, as the report states them (stickiness: the run's
 * first sticky strategy's). A deployment's own balancer is stated as what hactl knows of it: its
 * address and the path probed; its settings are the deployment's and unknown to hactl.
 */
function balancerSummary(options: RunOptions, overhead: RunOverhead): ReportSettings['balancer'] {
  const own = options.runtime.balancer(options.profile.healthPath);
  if (own) return own;
  const sticky = options.strategies.find((choice) => choice.strategy.sticky) ?? defaultChoice(strategyRegistry.descriptors.find((strategy) => strategy.sticky)!);
  const { balancer } = topologyFor(sticky, options);
  const stickiness = balancer.stickiness.type === 'off' ? undefined : balancer.stickiness;
  return {
    kind: balancer.kind,
    profile: balancer.profile,
    algorithm: balancer.algorithm,
    healthCheck: balancer.healthCheck,
    stickiness: { cookieName: stickiness?.cookieName ?? '', durationSeconds: stickiness?.durationSeconds ?? 0 },
    upstreamTimeoutMs: balancer.upstreamTimeoutMs,
    connectTimeoutMs: balancer.connectTimeoutMs,
    deregistrationDelayMs: balancer.deregistrationDelayMs,
    ...overhead.settings(),
  };
}

/** One strategy's pre-flight, for `hactl check`: its steps, or why it could not be checked. */
export interface StrategyCheck {
  strategy: string;
  steps: PreflightStep[];
  /** Why no step ran: a store that could not be had, an app that cannot keep sessions this way. */
  skipped?: string;
  /** Skipped because this machine lacks something (a store, HAProxy): the check could not judge. */
  unavailable?: true;
}

/**
 * `hactl check`: the pre-flight of every strategy of the run (its store started for it), and
 * nothing else. Everything started is stopped before this returns or throws.
 */
export async function check(options: RunOptions, hooks: Pick<RunHooks, 'signal' | 'env' | 'onEvent'>): Promise<StrategyCheck[]> {
  const load = loadOf(options);
  const runtime = await createRuntime(options, randomBytes(4).toString('hex'), hooks, load.limiter);
  const checks: StrategyCheck[] = [];
  try {
    const balancer = await runtime.checkBalancer(options.balancer ?? 'hactl');
    for (const choice of options.strategies) {
      hooks.signal.throwIfAborted();
      const { strategy, label } = choice;
      if (!balancer.available) {
        checks.push({ strategy: label, steps: [], skipped: `${balancer.reason} (fix: ${balancer.fix})`, unavailable: true });
        continue;
      }
      const unsupported = strategyConflict(options.profile, strategy.name);
      if (unsupported) {
        checks.push({ strategy: label, steps: [], skipped: unsupported });
        continue;
      }
      const started = await startStrategyStore(choice, runtime, options, hooks.signal);
      if ('skipped' in started) {
        checks.push({ strategy: label, steps: [], skipped: `${started.skipped} (fix: ${started.fix})`, unavailable: true });
        continue;
      }
      if ('error' in started) {
        // Told as every other step is: `hactl check` prints steps as they happen, and a store that
        // did not start would otherwise fail the strategy without a line saying why.
        const step = { step: 'start' as const, ok: false, detail: started.error };
        hooks.onEvent?.({ type: 'preflight-step', strategy: label, step });
        checks.push({ strategy: label, steps: [step] });
        continue;
      }
      const { store } = started;
      try {
        checks.push({ strategy: label, steps: await preflightSteps(choice, runtime, options, hooks, store, load) });
      } finally {
        await store?.stop();
      }
    }
  } finally {
    await runtime.close();
  }
  return checks;
}

/** The run's runtime, its preparation (image pulls and builds) told as notices. */
function createRuntime(options: RunOptions, runId: string, hooks: Pick<RunHooks, 'signal' | 'env' | 'onEvent'>, limiter?: RateLimiter): Promise<Runtime> {
  return options.runtime.create({
    runId,
    env: hooks.env,
    signal: hooks.signal,
    replicas: options.replicas,
    onProgress: (message) => hooks.onEvent?.({ type: 'notice', message }),
    needs: { topologies: options.strategies.map((choice) => topologyFor(choice, options)), storeProxy: options.scenarios.some((scenario) => scenario.phases.some((phase) => phase.unit.needsStoreProxy)) },
    // Everything hactl sends the deployment counts against --rate, its own probes too.
    ...(limiter ? { limiter } : {}),
  });
}

/**
 * The strategy's store, started for it (none for a strategy without one), with how long it took;
 * or why it could not be had (a row reason and its fix) or did not start.
 */
async function startStrategyStore(
  choice: StrategyChoice,
  runtime: Runtime,
  options: RunOptions,
  signal: AbortSignal,
): Promise<{ store?: RunningStore; storeStartMs?: number } | { skipped: string; fix: string } | { error: string }> {
  const name = choice.strategy.store;
  if (!name) return {};
  const module = stores[name];
  const availability = await runtime.checkStore(module);
  if (!availability.available) return { skipped: availability.reason, fix: availability.fix };
  try {
    const storeStarted = Date.now();
    const store = await runtime.startStore(module, topologyFor(choice, options).storeOptions);
    return { store, storeStartMs: Date.now() - storeStarted };
  } catch (error) {
    signal.throwIfAborted();
    return { error: `${name} did not start: ${errorMessage(error)}` };
  }
}

/** Why the rest of the run is not worth running, once that is known. */
interface Halt {
  reason?: string;
}

/**
 * One strategy's pre-flight, its steps told as progress. A pre-flight that could not finish (its
 * cluster would not stop, say) is a failed `start`, not the end of the run.
 */
async function preflightSteps(
  choice: StrategyChoice,
  runtime: Runtime,
  options: RunOptions,
  hooks: Pick<RunHooks, 'signal' | 'onEvent'>,
  store: RunningStore | undefined,
  load: Load,
): Promise<PreflightStep[]> {
  let steps: PreflightStep[];
  try {
    steps = await preflight({
      topology: topologyFor(choice, options),
      runtime,
      profile: options.profile,
      ...(store ? { store } : {}),
      requestTimeoutMs: options.requestTimeoutMs,
      ...(load.limiter ? { limiter: load.limiter } : {}),
      signal: hooks.signal,
    });
  } catch (error) {
    hooks.signal.throwIfAborted();
    steps = [{ step: 'start', ok: false, detail: `the pre-flight did not finish: ${errorMessage(error)}` }];
  }
  for (const step of steps) hooks.onEvent?.({ type: 'preflight-step', strategy: choice.label, step });
  return steps;
}

async function runStrategy(
  choice: StrategyChoice,
  runtime: Runtime,
  options: RunOptions,
  counts: CountVariables,
  hooks: RunHooks,
  addRowOf: (row: ResultRow) => void,
  overhead: RunOverhead,
  halt: Halt,
  preflightHere: boolean,
  load: Load,
): Promise<void> {
  const { strategy, label: name } = choice;
  let lastRow: ResultRow | undefined;
  const addRow = (row: ResultRow) => {
    lastRow = row;
    addRowOf(row);
  };
  const rowsFor = (fields: Omit<ResultRow, 'strategy' | 'scenario'>) =>
    options.scenarios.forEach((scenario) => addRow({ strategy: name, scenario: scenario.name, ...fields }));

  // An app that cannot keep sessions this way (no store client for it): no store to start either.
  const unsupported = strategyConflict(options.profile, strategy.name);
  if (unsupported) {
    rowsFor({ status: 'skipped', reason: unsupported });
    return;
  }

  const started = await startStrategyStore(choice, runtime, options, hooks.signal);
  if ('skipped' in started || 'error' in started) {
    rowsFor('skipped' in started ? { status: 'skipped', reason: started.skipped, fix: started.fix } : { status: 'error', reason: started.error });
    return;
  }
  const { store } = started;
  let { storeStartMs } = started;
  if (store) hooks.onEvent?.({ type: 'store-ready', strategy: name, description: store.description });

  // Set when a scenario killed the store and it did not come back: the rest cannot use it.
  const lost: { reason?: string } = {};
  try {
    if (preflightHere) {
      // A strategy with a store: whatever failed may be the store's doing, so only its rows say so.
      const failed = preflightFailure(await preflightSteps(choice, runtime, options, hooks, store, load));
      if (failed) {
        rowsFor({ status: 'error', reason: failed.reason, ...(failed.fix ? { fix: failed.fix } : {}) });
        return;
      }
    }
    for (const scenario of options.scenarios) {
      const conflict =
        lost.reason ??
        appConflict(scenario, options.profile, { custom: testsOwnApp(options), strategy: strategy.name }) ??
        scenarioConflict(scenario, counts, { strategy: name, ...(strategy.store ? { store: strategy.store } : {}) }) ??
        controlConflict(scenario, runtime) ??
        storeConflict(scenario, store, strategy);
      if (conflict) {
        addRow({ strategy: name, scenario: scenario.name, status: 'skipped', reason: conflict });
        continue;
      }
      const row = await runOne(choice, scenario, store, runtime, options, counts, hooks, lost, overhead, load);
      if (row.status === 'error' && row.reason?.startsWith(CLUSTER_START_FAILED)) {
        // The same app, started the same way, fails the same way on the strategy's next row; on a
        // strategy without a store, on every strategy's.
        lost.reason = `not run: ${row.reason} (in ${scenario.name})`;
        if (!strategy.store) halt.reason = lost.reason;
      }
      // The store starts once per strategy: its start-up is told on the first row that used it.
      if (row.timings && storeStartMs !== undefined) {
        row.timings.storeStartMs = storeStartMs;
        storeStartMs = undefined;
      }
      addRow(row);
    }
  } finally {
    teardownFailed(lastRow, await stopEach([{ what: `the ${name} store`, stop: () => store?.stop() }]), hooks.onEvent);
  }
}

/**
 * Parts that did not stop, said on the last row they outlived (a warning: that row's figures were
 * measured before teardown) and, given `emit`, as a notice, instead of an error that ends the run
 * unreported.
 */
function teardownFailed(row: ResultRow | undefined, failures: readonly string[], emit?: (event: RunEvent) => void): void {
  for (const message of failures) emit?.({ type: 'notice', message });
  if (row && failures.length > 0) row.warnings = [...(row.warnings ?? []), ...failures.map((message) => ({ id: 'teardown-failed' as const, message }))];
}

const CLUSTER_START_FAILED = 'the cluster did not start';

/** What the scenario's phases ask of the cluster that this runtime cannot do (the external runtime without fault commands). */
function controlConflict(scenario: Scenario, runtime: Runtime): string | undefined {
  for (const phase of scenario.phases) {
    const controls: ClusterControl[] = [...(phase.unit.controls ?? []), ...(phase.unit.needsStoreProxy ? (['store-proxy'] as const) : [])];
    for (const control of controls) {
      const reason = runtime.unsupported?.(control);
      if (reason) return `${scenario.name} (phase "${phase.name}"): ${reason}`;
    }
  }
  return undefined;
}

/** How many servers a strategy's store runs, when more than one: each is an instance a pricing file prices. */
function storeNodesOf(choice: StrategyChoice, options: RunOptions): { storeNodes?: number } {
  const name = choice.strategy.store;
  if (!name) return {};
  const servers = stores[name].nodes(topologyFor(choice, options).storeOptions).filter((node) => node.role === 'primary' || node.role === 'replica').length;
  return servers > 1 ? { storeNodes: servers } : {};
}

/** A store node hactl did not start (HACTL_MONGO_URL) cannot be killed and restarted by it; a one-node store has no replication to delay. */
function storeConflict(scenario: Scenario, store: RunningStore | undefined, strategy: StrategyChoice['strategy']): string | undefined {
  const replicated = scenario.phases.find((phase) => phase.needsReplication());
  if (replicated && store && !store.replication) {
    const variants = strategy.variants.filter((variant) => variant.replication !== undefined).map((variant) => `${strategy.name}:${variant.name}`);
    return `${scenario.name} needs a replicated store (phase "${replicated.name}"), and ${store.description} is one node${variants.length > 0 ? `; try ${variants.join(' or ')}` : ''}`;
  }
  if (replicated && store?.replication && !store.replication.setLinkDelay) return `${scenario.name} delays the replication links (phase "${replicated.name}"), and ${store.description} has none hactl can slow alone`;
  const reads = scenario.phases.find((phase) => phase.unit.needsStoreReader);
  if (reads && store?.replication && !store.endpoints.reader) return `${scenario.name} reads sessions through the store's reader endpoint (phase "${reads.name}"), and ${store.description} has none${store.replication.decidedBy === 'hactl' ? ' on this runtime yet' : ` (its failover is decided by ${store.replication.decidedBy === 'sentinel' ? 'Sentinel' : 'an election'}, and apps reach replicas through its own client)`}`;
  const proxied = scenario.phases.find((phase) => phase.unit.needsStoreProxy);
  // Its apps reach the store through hactl's primary endpoint, not one node a fault proxy could stand in front of.
  if (proxied && store?.replication) return `${scenario.name} puts a fault proxy in front of one store node (phase "${proxied.name}"), which a replicated store's primary endpoint does not allow yet`;
  const kills = scenario.phases.find((phase) => phase.unit.controls?.includes('kill-store'));
  const node = kills && store ? chooseNode(store.name, store.nodes, kills.storeNode() ?? {}) : undefined;
  return node && typeof node !== 'string' && !restartable(node) ? `${scenario.name} kills the store, and hactl cannot restart ${store!.description}` : undefined;
}

/**
 * Every scenario's node and role choices (kill-store's, store-fault's) against every strategy's
 * store, before anything starts: a node the store does not have is bad input, not a row error.
 */
function checkStoreChoices(options: RunOptions): void {
  const problems = new Set<string>();
  for (const choice of options.strategies) {
    const name = choice.strategy.store;
    if (!name) continue;
    const store = { name, label: choice.label, nodes: stores[name].nodes(topologyFor(choice, options).storeOptions) };
    for (const scenario of options.scenarios) for (const problem of nodeChoiceProblems(scenario, store)) problems.add(problem);
  }
  if (problems.size > 0) throw new UsageError([...problems].join('\n'));
}

async function runOne(
  choice: StrategyChoice,
  scenario: Scenario,
  store: RunningStore | undefined,
  runtime: Runtime,
  options: RunOptions,
  counts: CountVariables,
  hooks: RunHooks,
  lost: { reason?: string },
  overhead: RunOverhead,
  load: Load,
): Promise<ResultRow> {
  const name = choice.label;
  hooks.onEvent?.({ type: 'scenario-start', strategy: name, scenario: scenario.name, ...checkingOf(options) });
  const started = Date.now();
  // The row returned below holds this object; teardown's share is filled in by the finally
  // block, which runs before the caller sees the row.
  const timings: RowTimings = { startupMs: 0, scenarioMs: 0, teardownMs: 0 };
  const topology = topologyFor(choice, options, scenario);
  const base = { strategy: name, scenario: scenario.name, ...(store ? { store: store.description } : {}) };
  let cluster: Cluster;
  let proxy: StoreProxy | undefined;
  try {
    // Replicas reach the store through the fault proxy when the scenario puts toxics on it.
    // In front of the node the scenario's store-fault phases chose (the primary by default).
    const proxied = store && proxiedNode(scenario, store);
    if (proxied) proxy = await runtime.startStoreProxy(proxied);
    cluster = await runtime.startCluster(topology, store && proxied && proxy ? throughProxy(store, proxied.id, proxy.url) : store);
    timings.startupMs = Date.now() - started;
  } catch (error) {
    const failures = await stopEach([{ what: "the store's fault proxy", stop: () => proxy?.stop() }]);
    hooks.signal.throwIfAborted();
    const reason = [`${CLUSTER_START_FAILED}: ${errorMessage(error)}`, ...failures].join('; ');
    return { ...base, status: 'error', reason, durationMs: Date.now() - started };
  }
  // What the scenario left on the deployment (sessions the cleanup left logged in, replicas not
  // seen back): said on the row, whatever became of the scenario.
  let sessionsLeft: RowWarning | undefined;
  let notRestored: RowWarning[] = [];
  // The row the scenario ended with, for teardown to add to: the caller receives this object.
  let row: ResultRow | undefined;
  try {
    const warnings: RowWarning[] = [];
    const failOpen = await failOpenAtStart(cluster, topology, hooks.signal);
    if (failOpen) {
      warnings.push(failOpen);
      hooks.onEvent?.({ type: 'notice', message: `${name} × ${scenario.name}: ${failOpen.message}` });
    }
    await overhead.measure(cluster, options.profile.healthPath, hooks.signal);
    const scenarioStart = Date.now();
    const records = await runScenario({
      scenario,
      cluster,
      profile: options.profile,
      counts,
      concurrency: options.concurrency,
      seed: options.seed,
      requestTimeoutMs: options.requestTimeoutMs,
      signal: hooks.signal,
      ...(store ? { store } : {}),
      ...(proxy ? { storeFaults: proxy } : {}),
      balancer: topology.balancer,
      ...idleTimeout(options, scenario),
      warmUp: load.warmUp,
      ...(load.limiter ? { limiter: load.limiter } : {}),
      ...(options.idSample !== undefined ? { idSample: options.idSample } : {}),
      ...(options.store ? { replicationDelayMs: options.store.replicationDelayMs } : {}),
      ...(load.logOut
        ? {
            onLogouts: (result: LogoutResult) => {
              timings.logouts = { sessions: result.sessions, sent: result.sent, failed: result.failed, ms: result.ms };
              sessionsLeft = sessionsLeftWarning(result);
              hooks.onEvent?.({ type: 'notice', message: `${name} × ${scenario.name}: ${describeLogouts(result)}` });
            },
          }
        : {}),
      ...(hooks.onActivity ? { onActivity: (activity: ScenarioActivity) => hooks.onActivity!({ strategy: name, scenario: scenario.name, ...activity }) } : {}),
      onNotice: (message: string) => hooks.onEvent?.({ type: 'notice', message: `${name} × ${scenario.name}: ${message}` }),
      onNotRestored: (problems) => (notRestored = problems.map((problem) => ({ id: 'not-restored', message: `the deployment was not restored: ${problem}` }))),
    });
    const failure = cluster.failure();
    if (failure) throw new EnvironmentError(failure);
    await hooks.onSamples?.(name, records.samples);
    const metrics = aggregate({
      samples: records.samples,
      faults: records.faults,
      phases: scenario.phases.map((phase) => ({ name: phase.name, kind: phase.unit.kind, ownSessionReads: countsInHitRate(phase.unit) })),
      sessionLoss: scenario.measure.sessionLoss,
      expiry: scenario.measure.expiry,
      hangMs: scenario.measure.hangMs,
      counters: records.counters,
      failovers: records.failovers,
      replicaReads: records.replicaReads,
      ...(balancerNames(options) ? { replicaIds: cluster.replicaIds } : {}),
      logins: records.logins,
    });
    const seen = balancerNames(options) ? undefined : replicasSeenMessage(records.samples, cluster.replicaIds.length, records.faults);
    if (seen) warnings.push({ id: 'replicas-seen', message: seen });
    const suspect = suspectFaultEvidence(records.faults, records.samples);
    if (suspect) warnings.push({ id: 'suspect-detection', message: suspect });
    const unstable = unstableHealth(cluster.healthChanges?.(scenarioStart) ?? [], records.faults, cluster.replicaIds, scenarioStart);
    if (unstable) warnings.push({ id: 'unstable-health', message: unstable });
    warnings.push(...faultsNotObserved(records.faults), ...notRestored);
    const ownReads = new Set(scenario.phases.filter((phase) => countsInHitRate(phase.unit)).map((phase) => phase.name));
    // The same reads as the hit rate's: users whose login failed read no session of the strategy.
    const sessionless = withoutSession(records.logins);
    const misses = records.samples.filter((sample) => sample.outcome === 'miss' && ownReads.has(sample.phase) && !sessionless(sample));
    const noHits = noHitEvidence(metrics.reads, metrics.hitRate, cluster.replicaIds.length, misses);
    if (noHits) warnings.push({ id: 'no-hits', invalid: true, message: noHits });
    if (metrics.storeFailover) warnings.push(...storeFailoverWarnings(metrics.storeFailover));
    const loginWarning = failedLoginsWarning(records.logins);
    if (loginWarning) warnings.push(loginWarning);
    if (sessionsLeft) warnings.push(sessionsLeft);
    const findings = records.findings.length ? { findings: records.findings } : {};
    const flagged = warnings.length > 0 ? { warnings } : {};
    // Most users never had a session: no figure of this row is the strategy's, so it is no result.
    if (loginWarning?.invalid) {
      const reason = `${metrics.failedLogins}/${metrics.logins} logins failed: no session strategy was measured`;
      return (row = { ...base, status: 'error', reason, durationMs: Date.now() - started, timings, metrics, ...findings, ...flagged });
    }
    return (row = { ...base, status: 'ok', durationMs: Date.now() - started, timings, metrics, ...findings, ...flagged });
  } catch (error) {
    hooks.signal.throwIfAborted();
    if (error instanceof StoreLostError) lost.reason = error.message;
    // The same app against the same store: every later row of the strategy would say the same.
    if (error instanceof StoreUnusedError) lost.reason = `${error.message} (found in ${scenario.name})`;
    const left = [...notRestored, ...(sessionsLeft ? [sessionsLeft] : [])];
    return (row = { ...base, status: 'error', reason: errorMessage(error), durationMs: Date.now() - started, timings, ...(left.length > 0 ? { warnings: left } : {}) });
  } finally {
    const stopping = Date.now();
    timings.scenarioMs = stopping - started - timings.startupMs;
    // Every part is stopped whatever the others do. A failed stop is a warning, not the row's
    // error: the figures were measured before teardown began, but what outlived the run may still
    // hold ports or load the machine for the rows after it, so it is said on the row.
    const failures = await stopEach([
      { what: 'the cluster', stop: () => cluster.stop() },
      { what: "the store's fault proxy", stop: () => proxy?.stop() },
    ]);
    timings.teardownMs = Date.now() - stopping;
    teardownFailed(row, failures);
  }
}

/**
 * Faults made by the user's commands that hactl did not see take effect: they void the row's
 * figures (a loss measured after a fault that did not happen is no result).
 */
function faultsNotObserved(faults: readonly Fault[]): RowWarning[] {
  return faults.flatMap((fault) => {
    const { observed, observation } = commandEvidence(fault);
    if (observed !== false) return [];
    return [{ id: 'fault-not-observed' as const, invalid: true, message: `the ${fault.kind} fault on ${fault.target} was not observed, so the figures after it are no result: ${observation ?? 'nothing showed it'}` }];
  });
}

/**
 * Every target failing the balancer's health check as the row starts: the balancer fails open
 * (routes to all of them) from the first moment, so it can never take a dead replica out and
 * the row measures nothing of the strategy's failover. Targets hactl cannot reach itself (a
 * balancer in a container) go unchecked here; the suspect-detection evidence still applies.
 */
async function failOpenAtStart(cluster: Cluster, topology: Topology, signal: AbortSignal): Promise<RowWarning | undefined> {
  if (!cluster.directTargets || cluster.directTargets.length === 0) return undefined;
  const check = topology.balancer.healthCheck;
  const { passing, probes } = await healthCheckVerdict(cluster.directTargets, check, signal);
  if (passing) return undefined;
  const answers = [...new Set(probes.map((probe) => describeProbe(probe, check.path)))];
  return {
    id: 'fail-open',
    invalid: true,
    message:
      `every replica failed the balancer's health check at start (${answers.join('; ')}), so from the first moment the balancer could take no dead replica out ` +
      `(${topology.balancer.kind === 'haproxy' ? 'HAProxy answers 503 with every server down' : 'it fails open and routes to all of them'}) ` +
      `and these figures are not a measurement of the strategy; fix: the app profile's health path must answer ${check.matcher} within the check's timeout of ${check.timeoutMs} ms`,
  };
}

/** The idle timeout the app runs with: what the scenario sets the demo app to, or what the profile states. */
function idleTimeout(options: RunOptions, scenario: Scenario): { idleTimeoutSeconds?: number } {
  const seconds = testsOwnApp(options) ? options.profile.idleTimeoutSeconds : (scenario.app.sessionTtlSeconds ?? options.profile.idleTimeoutSeconds);
  return seconds === undefined ? {} : { idleTimeoutSeconds: seconds };
}

/**
 * Whether answers name replicas by the cluster's own ids: hactl's balancer's tag, with no
 * profile `replica:` source. A deployment's own proxy may send that header too, with its own
 * values: there, as with a profile source, only replicas seen in answers count.
 */
function balancerNames(options: RunOptions): boolean {
  return options.profile.replica === undefined && options.runtime.namesReplicas;
}

/** What is checked rather than started as a scenario begins, for its progress line (a deployment's health URL). */
function checkingOf(options: RunOptions): { checking?: string } {
  const checking = options.runtime.checking(options.profile.healthPath);
  return checking === undefined ? {} : { checking };
}

/** The user's own app (a command, an image, a deployment): scenarios cannot change its session settings. */
function testsOwnApp(options: RunOptions): boolean {
  return options.customApp !== undefined || options.runtime.ownApp;
}
