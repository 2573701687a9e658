import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { quietOnClosedPipe } from './closed-pipe.js';
import { initCommand } from './commands/init-command.js';
import { reportCommand, type ReportFlags } from './commands/report-command.js';
import { reportError } from './commands/report-error.js';
import { runCommand, type RunCommandFlags } from './commands/run-command.js';
import { DEFAULT_CONFIG_FILE } from './config/config-file.js';
import { checkWritable, DEFAULT_SCENARIOS, DEFAULTS, parseInteger, parseStrategies } from './config/options.js';
import { parseImages } from './runtime/docker/settings.js';
import { composeFile } from './topology/compose.js';
import { ExitCode, UsageError } from './errors.js';
import { FORMAT_NAMES, renderers } from './report/renderers.js';
import { STRATEGY_NAMES, strategies } from './strategies.js';
import { ALGORITHMS } from './balancer/settings.js';
import { BALANCER_KINDS } from './topology/plan.js';
import { VERSION } from './version.js';

const STRATEGY_VARIANTS = Object.values(strategies)
  .flatMap((strategy) => strategy.variants.filter((variant) => variant.name !== 'default').map((variant) => `${strategy.name}:${variant.name}`))
  .join(', ');

const EXIT_CODES_HELP = `
Exit codes:
  0    the run finished and every expectation held (skipped rows included, unless --strict)
  1    an expectation of the config file failed, with --strict a row was skipped, or with
       --fail-on-findings a security finding failed (the log names each)
  2    bad flags, config, profile or scenario file, or an --out path that cannot be written
  3    environment: a store, engine, port or process could not be had, or a row failed
  70   internal error (a bug in hactl; --debug prints its stack)
  129, 130, 131, 143
       stopped by SIGHUP, SIGINT (Ctrl-C), SIGQUIT or SIGTERM; everything hactl started was
       stopped first`;

/** The flags of `hactl run`, which `hactl check` shares: the same app, runtime and strategies. */
function runFlags(command: Command): Command {
  return command
    .option('-s, --strategy <list>', `session strategies, comma-separated: ${STRATEGY_NAMES.join(', ')}, or all; variants as name:variant (${STRATEGY_VARIANTS})`, 'all')
    .option('-c, --scenario <list>', `scenarios, comma-separated: built-in names, paths to scenario .yaml files, or all (default: ${DEFAULT_SCENARIOS.join(',')})`)
    .option('-r, --replicas <n>', 'app replicas behind the balancer', String(DEFAULTS.replicas))
    .option('-u, --users <n>', 'virtual users, each with its own identity and cookie jar', String(DEFAULTS.users))
    .option('--reads <n>', "session reads per user after login (scenarios scale their read phases from it)", String(DEFAULTS.reads))
    .option('--concurrency <n>', 'requests in flight at once (latency percentiles depend on it)', String(DEFAULTS.concurrency))
    .option('--runtime <name>', 'where the cluster runs: local (child processes on 127.0.0.1), docker (containers on the engine DOCKER_HOST names) or external (a deployment that exists already, at --target)', 'local')
    .option('--target <url>', 'external: the deployment\'s load balancer, such as https://shop.example.com; give --strategy (the one it uses) and --replicas (how many it has)')
    .option('--kill-replica-cmd <command>', 'external: a command that kills one replica ({replica}, {ordinal}, {signal}, {target} are filled in); without it, scenarios that kill replicas are skipped')
    .option('--start-replica-cmd <command>', 'external: a command that starts a killed replica again (default: the platform does)')
    .option('--kill-store-cmd <command>', 'external: a command that kills the session store; without it, kill-store is skipped')
    .option('--start-store-cmd <command>', 'external: a command that starts the store again (default: the platform does)')
    .option('--verify-cmd <command>', 'external: a command that exits 0 once a fault has taken effect ({fault} is kill-replica or kill-store; the fault commands\' fields too); polled after the fault command')
    .option('--store-ready-cmd <command>', 'external: a command that exits 0 once the store is back after kill-store; a control user\'s login and read must hit too, when one can log in')
    .option('--fault-timeout <s>', 'external: how long a fault command may run, and how long hactl waits for a fault\'s outcome (default: 120; the wait for a killed store, 60)')
    .option('--docker-network <mode>', 'docker: bridge (a network of the run\'s own; default) or host (127.0.0.1 ports)')
    .option('--image <key=image>', 'docker: use this image for node (the demo app\'s base), redis, postgres, mongo or haproxy; repeatable', collect)
    .option('--docker-balancer <where>', 'docker: run the balancer in hactl, or in a container beside the replicas (default: auto, in hactl unless the engine is remote)')
    .addOption(new Option('-f, --format <format>', 'report format').choices(Object.keys(renderers)).default('table'))
    .option('-o, --out <file>', 'write the report to a file (the terminal still gets the table)')
    .option('--samples <file>', 'also write every request of the scenarios\' users as one JSON line (strategy, scenario, phase, user, replica, status, latency, outcome)')
    .option('--seed <n>', 'seed for users and request order; the same seed repeats a run (default: random, printed)')
    .option('--port <n>', 'balancer port on 127.0.0.1 (default: a free port)')
    .option('--balancer <kind>', `the load balancer: ${BALANCER_KINDS.join(' (its own, modelled on AWS ALB) or ')} (a real HAProxy, to cross-check it) (default: hactl)`)
    .option('--balancer-profile <name>', 'health checks, timeouts and deregistration delay: fast (test speed) or alb (AWS ALB\'s own defaults: checks every 30 s, a dead replica out of rotation after 30-70 s, deregistration 300 s; fault scenarios take minutes) (default: fast)')
    .option('--algorithm <name>', `how the balancer picks a replica: ${ALGORITHMS.join(' or ')} (default: round_robin)`)
    .option('--deregistration-delay <s>', 'how long a replica being removed may finish its requests, 0 to 3600 s (default: the profile\'s, 5 s fast, 300 s alb)')
    .option('--app-profile <file>', 'how to talk to your app: a YAML app profile (cookie, login and read requests, what a hit looks like); examples in fixtures/apps/ (default: the demo app\'s)')
    .option('--app-cmd <command>', 'local: start each replica of your app with this shell command; {port}, {host}, {replica}, {strategy}, {storeUrl}, {redisUrl}, {redisHost}, {redisPort}, {postgresUrl}, {mongoUrl} are filled in')
    .option('--app-image <image>', 'docker: run each replica of your app from this image (it listens on the profile\'s containerPort)')
    .option('--app-env <key=value>', 'environment for your app\'s replicas, templated as --app-cmd; repeatable', collect)
    .option('--request-timeout <ms>', 'how long a virtual user waits for an answer before counting an error', String(DEFAULTS.requestTimeoutMs))
    .option('--startup-timeout <s>', 'how long each replica of your app may take to answer its health path with 2xx', String(DEFAULTS.startupTimeoutSeconds))
    .option('--no-preflight', 'skip the check of the app (start, health, login, read, store) before the first row')
    .option('--rate <n>', 'at most n requests a second from hactl to the app, in every sliding second (users, warm-up, logouts, pre-flight; on external, hactl\'s probes too) (default: no limit)')
    .option('--warm-up', 'throwaway users log in and read before each scenario, so that cold replicas do not show in latencies (default: on, off for --runtime external)')
    .option('--no-warm-up', 'no warm-up before each scenario')
    .option('--id-sample <n>', 'logins of the security scenario\'s session-id check, 30 to 100000; below 1000 it judges duplicates only (default: 1000)')
    .option('--config <file>', `a config file: every flag above by its long name, plus expectations (default: ${DEFAULT_CONFIG_FILE} if it exists; hactl init writes one)`)
    .option('--junit <file>', 'also write a JUnit XML report: a test case per strategy x scenario x expectation, and per security finding')
    .option('--html <file>', 'also write a self-contained HTML report with charts')
    .option('--pricing <file>', 'hourly instance prices (YAML, see fixtures/pricing/): a cost column in the Markdown comparison')
    .option('--strict', 'a skipped row fails the run (exit 1), as a failed expectation does')
    .option('--fail-on-findings', 'a failed security finding fails the run (exit 1), as a failed expectation does; n/a and facts never do')
    .option('-q, --quiet', 'no progress lines on stderr');
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const program = new Command('hactl')
    .description('Builds your web app as replicas behind a load balancer with a real session store, drives users through it, breaks it on purpose, and reports which session strategy survives what.')
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError()
    // commander's errors (unknown option, bad choice) as one `hactl:` line, like hactl's own.
    .configureOutput({ outputError: (text, write) => write(`hactl: ${text.replace(/^error: /, '').replace(/\s*\n\s*(?=\S)/g, ' ').trim()}\n`) })
    .addHelpText('after', EXIT_CODES_HELP);
  let exitCode: number = ExitCode.ok;

  runFlags(
    program
      .command('run')
      .description('start a cluster per strategy, run the scenarios against it, tear it down, print one table'),
  )
    .option('--debug', 'print stack traces for errors')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: RunCommandFlags, command: Command) => {
      const given = new Set(Object.keys(flags).filter((key) => command.getOptionValueSource(key) === 'cli'));
      exitCode = await runCommand(flags, given);
    });

  runFlags(
    program
      .command('check')
      .description("check the app once per strategy before a run: one replica starts, its health path answers what the balancer accepts, a login sets the session cookie, a read satisfies the hit predicate, and the app writes to the strategy's store"),
  )
    .option('--debug', 'print stack traces for errors')
    .addHelpText('after', `
Exit codes:
  0    every step passed for every strategy checked
  1    a step failed (the line says which, what was seen and the fix)
  2    bad flags, config or profile
  3    environment: a store, engine or port could not be had`)
    .action(async (flags: RunCommandFlags, command: Command) => {
      const given = new Set(Object.keys(flags).filter((key) => command.getOptionValueSource(key) === 'cli'));
      exitCode = await runCommand(flags, given, 'check');
    });

  program
    .command('report')
    .description('render a saved JSON report (hactl run --format json) again, in another format, without running anything')
    .argument('<file>', 'a report written by hactl run --format json')
    .addOption(new Option('-f, --format <format>', 'report format').choices(FORMAT_NAMES).default('table'))
    .option('-o, --out <file>', 'write it to a file instead of stdout')
    .option('--pricing <file>', 'hourly instance prices for the Markdown comparison\'s cost column')
    .action(async (file: string, flags: ReportFlags) => {
      exitCode = await reportCommand(file, flags);
    });

  program
    .command('init')
    .description(`write a commented starter config (${DEFAULT_CONFIG_FILE}) with expectations a CI job can start from`)
    .argument('[file]', `where to write it (default: ${DEFAULT_CONFIG_FILE})`)
    .option('--force', 'overwrite the file if it exists')
    .action(async (file: string | undefined, flags: { force?: boolean }) => {
      exitCode = await initCommand(file, flags);
    });

  program
    .command('compose')
    .description('print a docker-compose file of the topology `hactl run --runtime docker` builds for one strategy')
    .requiredOption('-s, --strategy <name>', `one of ${STRATEGY_NAMES.join(', ')}`)
    .option('-r, --replicas <n>', 'app replicas behind the balancer', String(DEFAULTS.replicas))
    .option('--port <n>', 'the balancer\'s port on 127.0.0.1', '8080')
    .option('--image <key=image>', 'use this image for node (the demo app\'s base), redis, postgres or mongo; repeatable', collect)
    .option('-o, --out <file>', 'write the file instead of printing it')
    .action(async (flags: ComposeFlags) => {
      exitCode = await composeCommand(flags);
    });

  program
    .command('down')
    .description('remove the containers and networks hactl left on the Docker engine (all runs, or one)')
    .option('--run <id>', 'only the run with this id (printed at the start of each run)')
    .action(async (flags: { run?: string }) => {
      exitCode = await downCommand(flags);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its one-line message already; help and version are not errors.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    throw error;
  }
  return exitCode;
}

interface ComposeFlags {
  strategy: string;
  replicas: string;
  port: string;
  image?: string[];
  out?: string;
}

async function composeCommand(flags: ComposeFlags): Promise<number> {
  try {
    const [strategy, ...more] = parseStrategies(flags.strategy);
    if (!strategy || more.length > 0 || flags.strategy.split(',').some((name) => name.trim() === 'all')) throw new UsageError(`--strategy: expected exactly one of ${STRATEGY_NAMES.join(', ')} (or a variant such as redis:aof-always), got "${flags.strategy}"`);
    const text = composeFile({
      strategy,
      replicas: parseInteger('--replicas', flags.replicas, DEFAULTS.replicas, 1, 64),
      port: parseInteger('--port', flags.port, 8080, 1, 65_535),
      images: parseImages(flags.image ?? [], process.env),
    });
    if (flags.out === undefined) process.stdout.write(text);
    else {
      await checkWritable('--out', flags.out);
      await writeFile(flags.out, text);
    }
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, false);
  }
}

async function downCommand(flags: { run?: string }): Promise<number> {
  try {
    if (flags.run !== undefined && !/^[0-9a-f]{8}$/.test(flags.run)) throw new UsageError(`--run: expected a run id of 8 hex digits, got "${flags.run}"`);
    const { connectEngine } = await import('./runtime/docker/engine.js');
    const { removeRunResources } = await import('./runtime/docker/down.js');
    const engine = await connectEngine(process.env);
    const removed = await removeRunResources(engine.docker, flags.run);
    const what = flags.run ? `run ${flags.run}` : 'all runs';
    if (removed.containers.length + removed.networks.length + removed.failures.length === 0) process.stdout.write(`hactl down: nothing left by ${what} on ${engine.address}\n`);
    for (const name of removed.containers) process.stdout.write(`removed container ${name}\n`);
    for (const name of removed.networks) process.stdout.write(`removed network ${name}\n`);
    for (const failure of removed.failures) process.stderr.write(`hactl: could not remove: ${failure}\n`);
    return removed.failures.length > 0 ? ExitCode.environment : ExitCode.ok;
  } catch (error) {
    return reportError(error, false);
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
