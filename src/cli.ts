import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { quietOnClosedPipe } from './closed-pipe.js';
import { initCommand } from './commands/init-command.js';
import { composeApp, type ComposeAppFlags } from './commands/compose-app.js';
import { reportCommand, type ReportFlags } from './commands/report-command.js';
import { reportError } from './commands/report-error.js';
import { runCommand, type RunCommandFlags } from './commands/run-command.js';
import { DEFAULT_CONFIG_FILE, FLAGS } from './config/flags.js';
import { checkWritable, DEFAULTS, parseInteger, parseStoreFlags, parseStrategies } from './config/options.js';
import { parseImages } from './runtime/docker/settings.js';
import { composeFile } from './topology/compose.js';
import { ExitCode, UsageError } from './platform/errors.js';
import { FORMAT_NAMES } from './report/renderers.js';
import { STRATEGY_NAMES } from './strategies.js';
import { VERSION } from './platform/version.js';

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

/** The flags of `hactl run`, which `hactl check` shares (the same app, runtime and strategies): the flag table's, in its order. */
function runFlags(command: Command): Command {
  for (const flag of FLAGS) {
    const option = new Option(flag.option, flag.help);
    if (flag.choices) option.choices(flag.choices);
    if (flag.value === 'pairs') option.argParser(collect);
    if (flag.default !== undefined) option.default(flag.default);
    command.addOption(option);
    if (flag.negation) command.addOption(new Option(flag.negation.option, flag.negation.help));
  }
  return command;
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
    .option('--pricing <file>', 'hourly instance prices for the Markdown comparison\'s cost column: a bundled file by name (aws-ap-northeast-2-t3-medium) or a YAML file\'s path')
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
    .option('--image <key=image>', 'use this image for node (the demo app\'s base), redis, postgres, mongo or haproxy (in front of --app-image); repeatable', collect)
    .option('-o, --out <file>', 'write the file instead of printing it')
    .option('--store-replicas <n>', 'replicas beside the primary of a replicated store variant (redis:replica, redis:replica-wait), 1 to 5 (default: 1)')
    .option('--app-image <image>', 'your app\'s image as each replica, in place of the demo app (HAProxy in front; nothing is built)')
    .option('--app-profile <file>', 'your app\'s profile (health path, containerPort, cookie), with --app-image')
    .option('--app-env <key=value>', 'environment of your app\'s replicas, templated as for hactl run ({redisUrl}, ...); repeatable', collect)
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

interface ComposeFlags extends ComposeAppFlags {
  strategy: string;
  replicas: string;
  port: string;
  image?: string[];
  out?: string;
  storeReplicas?: string;
}

async function composeCommand(flags: ComposeFlags): Promise<number> {
  try {
    const [strategy, ...more] = parseStrategies(flags.strategy);
    if (!strategy || more.length > 0 || flags.strategy.split(',').some((name) => name.trim() === 'all')) throw new UsageError(`--strategy: expected exactly one of ${STRATEGY_NAMES.join(', ')} (or a variant such as redis:aof-always), got "${flags.strategy}"`);
    const storeReplicas = parseStoreFlags({ storeReplicas: flags.storeReplicas }, [strategy]).replicas;
    const text = composeFile({
      strategy,
      replicas: parseInteger('--replicas', flags.replicas, DEFAULTS.replicas, 1, 64),
      port: parseInteger('--port', flags.port, 8080, 1, 65_535),
      images: parseImages(flags.image ?? [], process.env),
      ...(storeReplicas !== undefined ? { storeReplicas } : {}),
      ...(await composeApp(flags)),
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
