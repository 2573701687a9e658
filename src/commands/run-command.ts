import { open, writeFile } from 'node:fs/promises';
import { demoProfile } from '../config/demo-profile.js';
import { loadAppProfile } from '../config/app-profile.js';
import { commandDir, findConfigFile, loadConfigFile, type ConfigFile } from '../config/config-file.js';
import { checkWritable, parseRunFlags, type AppFlags } from '../config/options.js';
import { flagOf, type CommandFlags, type RunFlags } from '../config/flags.js';
import { builtinScenarioNames, isScenarioFile, loadScenario } from '../config/scenario.js';
import type { AppProfile } from '../driver/app-profile.js';
import { randomSeed } from '../driver/rng.js';
import { ExitCode, InterruptedError, UsageError } from '../platform/errors.js';
import { accountsShortfall } from '../config/accounts.js';
import { evaluateExpectations } from '../expectations/evaluate.js';
import { exitCodeFor } from '../expectations/verdict.js';
import { trapInterrupts } from '../interrupts.js';
import { expectationLines } from '../report/expectation-lines.js';
import { liveProgress } from '../report/live-progress.js';
import type { Report } from '../report/model.js';
import { lineProgress } from '../report/progress.js';
import { renderers, type RenderOptions } from '../report/renderers.js';
import { terminalWidth } from '../report/terminal-width.js';
import { check, run, type RunOptions } from '../run.js';
import { BALANCER_PROFILE_SETTINGS, type CustomApp } from '../topology/plan.js';
import { reportError } from './report-error.js';

/** How long teardown may take after Ctrl-C before hactl stops waiting and kills what is left. */
const TEARDOWN_DEADLINE_MS = 20_000;

/** `hactl run`'s options beyond the run's own settings. */
export type RunCommandFlags = RunFlags & CommandFlags;

/**
 * `hactl run`: the config file (if any) under the flags given on the command line, the run, its
 * reports, and the exit code its expectations make. `given` lists the flags the user typed, so
 * that commander's defaults do not override the config file.
 */
export async function runCommand(flags: RunCommandFlags, given: ReadonlySet<string>, mode: 'run' | 'check' = 'run'): Promise<number> {
  const interrupts = trapInterrupts(process.stderr, TEARDOWN_DEADLINE_MS);
  try {
    const configFile = flags.config ?? (await findConfigFile(process.cwd()));
    const scenarioFiles = given.has('scenario') ? (flags.scenario ?? '').split(',').map((entry) => entry.trim()).filter(isScenarioFile) : [];
    const config = configFile === undefined ? undefined : await loadConfigFile(configFile, scenarioFiles);
    const merged = mergeFlags(config, flags, given);
    const settings = parseRunFlags(merged, process.env);
    const reports = {
      junit: given.has('junit') ? flags.junit : config?.reports.junit,
      html: given.has('html') ? flags.html : config?.reports.html,
      pricing: given.has('pricing') ? flags.pricing : config?.reports.pricing,
    };
    const { strict, failOnFindings } = failureRules(flags, config);
    for (const [flag, file] of [['--out', settings.out], ['--samples', settings.samples], ['--junit', reports.junit], ['--html', reports.html]] as const) {
      if (file !== undefined) await checkWritable(flag, file);
    }
    const renderOptions: Omit<RenderOptions, 'color'> = reports.pricing === undefined ? {} : { pricing: await (await import('../report/pricing.js')).loadPricing(reports.pricing) };
    const references = settings.scenarios === 'all' ? await builtinScenarioNames() : settings.scenarios;
    const timing = { profile: settings.balancerProfile, healthCheck: BALANCER_PROFILE_SETTINGS[settings.balancerProfile].healthCheck };
    const scenarios = await Promise.all(references.map((reference) => loadScenario(reference, timing)));
    const seed = settings.seed ?? randomSeed();
    const profile = settings.app.profileFile === undefined ? demoProfile : await loadAppProfile(settings.app.profileFile);
    const short = accountsShortfall(profile, settings.users);
    if (short) throw new UsageError(short);
    const customApp = customAppOf({ ...settings.app, startupTimeoutMs: settings.startupTimeoutMs }, profile, commandDir(config, 'appCmd', given, process.cwd()));
    if (config && !flags.quiet) process.stderr.write(`hactl: config ${config.file}${config.expectations.length > 0 ? `, ${config.expectations.length} expectations` : ''}\n`);

    const runOptions: RunOptions = {
        strategies: settings.strategies,
        scenarios,
        replicas: settings.replicas,
        users: settings.users,
        reads: settings.reads,
        concurrency: settings.concurrency,
        seed,
        // What the runtime could not know when the flags were parsed: the profile's health path, where commands run.
        runtime: settings.runtime.complete({ healthPath: profile.healthPath, commandDir: (key) => commandDir(config, key, given, process.cwd()) }),
        balancerPort: settings.port,
        requestTimeoutMs: settings.requestTimeoutMs,
        balancer: settings.balancer,
        balancerProfile: settings.balancerProfile,
        algorithm: settings.algorithm,
        ...(settings.deregistrationDelayMs !== undefined ? { deregistrationDelayMs: settings.deregistrationDelayMs } : {}),
        profile,
        ...(customApp ? { customApp } : {}),
        preflight: settings.preflight,
        warmUp: settings.warmUp,
        ...(settings.rate !== undefined ? { rate: settings.rate } : {}),
        ...(settings.idSample !== undefined ? { idSample: settings.idSample } : {}),
        store: settings.store,
    };
    if (mode === 'check') return await checkCommand(runOptions, { signal: interrupts.signal, env: process.env });
    const samplesFile = settings.samples === undefined ? undefined : await open(settings.samples, 'w');
    // A terminal gets a live status line; a CI log, plain lines it can keep.
    const progress = flags.quiet ? undefined : process.stderr.isTTY ? liveProgress(process.stderr, interrupts.signal) : undefined;
    const ran = await run(runOptions,
      {
        signal: interrupts.signal,
        env: process.env,
        onEvent: flags.quiet ? undefined : (progress?.onEvent ?? lineProgress(process.stderr)),
        ...(progress ? { onActivity: progress.onActivity } : {}),
        onSamples: samplesFile && ((strategy, samples) => samplesFile.appendFile(samples.map((sample) => `${JSON.stringify({ strategy, ...sample })}\n`).join(''))),
      },
    ).finally(() => {
      progress?.stop();
      return samplesFile?.close();
    });

    const report: Report = {
      ...ran,
      settings: { ...ran.settings, ...(strict ? { strict } : {}), ...(failOnFindings ? { failOnFindings } : {}), ...(config ? { config: config.file } : {}) },
      ...(config && config.expectations.length > 0 ? { expectations: evaluateExpectations(ran, config.expectations) } : {}),
    };
    await writeReports(report, settings, reports, renderOptions);
    for (const line of expectationLines(report)) process.stderr.write(`hactl: ${line}\n`);
    const signal = interrupts.interruptedBy();
    if (signal) {
      const finished = report.results.filter((row) => row.status === 'ok' || row.status === 'error').length;
      process.stderr.write(`hactl: interrupted by ${signal}; everything hactl started has been stopped; the report holds the ${finished} rows that ran to the end\n`);
      return new InterruptedError(signal).exitCode;
    }
    return exitCodeFor(report, { strict, failOnFindings });
  } catch (error) {
    const signal = interrupts.interruptedBy();
    if (signal) {
      process.stderr.write(`hactl: interrupted by ${signal}; everything hactl started has been stopped\n`);
      return new InterruptedError(signal).exitCode;
    }
    return reportError(error, flags.debug === true);
  } finally {
    interrupts.dispose();
  }
}

/**
 * `hactl check`: each strategy's pre-flight steps, one line each on stdout as they happen
 * (`redis  login   ok    POST /login answered 200, set JSESSIONID`), then exit 0 when all passed
 * and 1 when a step failed.
 */
async function checkCommand(options: RunOptions, hooks: { signal: AbortSignal; env: NodeJS.ProcessEnv }): Promise<number> {
  const width = Math.max(...options.strategies.map((choice) => choice.label.length));
  const checks = await check(options, {
    ...hooks,
    onEvent(event) {
      if (event.type === 'notice') process.stderr.write(`hactl: ${event.message}\n`);
      if (event.type !== 'preflight-step') return;
      const { step } = event;
      process.stdout.write(`${event.strategy.padEnd(width)}  ${step.step.padEnd(6)}  ${step.ok ? 'ok  ' : 'FAIL'}  ${step.detail}\n`);
      if (step.fix) process.stdout.write(`${event.strategy.padEnd(width)}  ${step.step.padEnd(6)}  fix   ${step.fix}\n`);
    },
  });
  for (const result of checks) if (result.skipped) process.stdout.write(`${result.strategy.padEnd(width)}  skipped: ${result.skipped}\n`);
  const failed = checks.filter((result) => result.steps.some((step) => !step.ok));
  const passed = checks.filter((result) => !result.skipped && result.steps.length > 0 && result.steps.every((step) => step.ok));
  process.stderr.write(`hactl check: ${passed.length} of ${checks.length} strategies passed${failed.length ? `; failed: ${failed.map((result) => result.strategy).join(', ')}` : ''}\n`);
  if (failed.length > 0) return ExitCode.expectationFailed;
  // A store or balancer this machine lacks: those strategies were not checked at all.
  return checks.some((result) => result.unavailable) ? ExitCode.environment : ExitCode.ok;
}

async function writeReports(
  report: Report,
  settings: { format: keyof typeof renderers; out?: string },
  reports: { junit?: string | undefined; html?: string | undefined },
  options: Omit<RenderOptions, 'color'>,
): Promise<void> {
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const width = terminalWidth(process.stdout, process.env);
  const terminal = { ...options, ...(width !== undefined ? { width } : {}) };
  if (settings.out !== undefined) {
    await writeFile(settings.out, renderers[settings.format](report, { ...options, color: false }));
    process.stdout.write(renderers.table(report, { ...terminal, color }));
    process.stderr.write(`hactl: ${settings.format} report written to ${settings.out}\n`);
  } else {
    process.stdout.write(renderers[settings.format](report, { ...terminal, color: color && settings.format === 'table' }));
  }
  for (const [format, file] of [['junit', reports.junit], ['html', reports.html]] as const) {
    if (file === undefined) continue;
    const render: (report: Report, options: RenderOptions) => string = renderers[format];
    await writeFile(file, render(report, { ...options, color: false }));
    process.stderr.write(`hactl: ${format} report written to ${file}\n`);
  }
}

/**
 * What fails the run besides a failed expectation, each on when its flag is typed or its key is
 * true in the config file (a typed switch cannot be turned off by the file, nor the file's by omission).
 */
export function failureRules(flags: Pick<RunCommandFlags, 'strict' | 'failOnFindings'>, config: Pick<ConfigFile, 'strict' | 'failOnFindings'> | undefined): { strict: boolean; failOnFindings: boolean } {
  return { strict: flags.strict === true || config?.strict === true, failOnFindings: flags.failOnFindings === true || config?.failOnFindings === true };
}

/**
 * The config file's flags, with those typed on the command line over them. Repeatable flags
 * (KEY=VALUE pairs) add to the file's (a later KEY=VALUE wins).
 */
export function mergeFlags(config: ConfigFile | undefined, flags: RunFlags, given: ReadonlySet<string>): RunFlags {
  const merged: RunFlags = { ...config?.flags };
  for (const [key, value] of Object.entries(flags) as [keyof RunFlags, unknown][]) {
    if (value === undefined) continue;
    if (flagOf(key)?.value === 'pairs') {
      if (given.has(key)) (merged as Record<string, unknown>)[key] = [...((config?.flags[key] as string[] | undefined) ?? []), ...(value as string[])];
    } else if (given.has(key) || config?.flags[key] === undefined) {
      (merged as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

/** The user's app, when --app-cmd or --app-image replaces the demo app; readiness and port come from its profile. */
function customAppOf(app: AppFlags & { startupTimeoutMs: number }, profile: AppProfile, cwd: string): CustomApp | undefined {
  if (app.command === undefined && app.image === undefined) return undefined;
  return {
    ...(app.command !== undefined ? { command: app.command, cwd } : {}),
    ...(app.image !== undefined ? { image: app.image } : {}),
    env: app.env,
    healthPath: profile.healthPath,
    ...(profile.containerPort !== undefined ? { containerPort: profile.containerPort } : {}),
    startupTimeoutMs: app.startupTimeoutMs,
  };
}
