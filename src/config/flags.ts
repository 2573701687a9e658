import { ALGORITHMS } from '../balancer/settings.js';
import { FORMAT_NAMES } from '../report/renderers.js';
import { DEFAULT_RUNTIME, RUNTIME_LIST, type RuntimeFlagSpecs } from '../runtime/index.js';
import { REPLICATED_VARIANTS, strategyHelp, strategyRegistry } from '../strategies.js';
import { BALANCER_KINDS } from '../topology/plan.js';
import { FAILOVER_PROFILES } from '../stores/store.js';
import { longName, type FlagSpec, type FlagValues } from '../platform/flag.js';
import { DEFAULT_SCENARIOS, DEFAULTS } from './options.js';

/**
 * The flags of `hactl run` and `hactl check`, each declared once: its spelling, help, value and
 * default. The commander options (cli.ts), the config file's keys and schema (config-file.ts) and
 * the parsed flags' type (RunFlags) are made from this table; each runtime's own flags come from
 * its module (runtime/index.ts), in the registry's order, after --runtime.
 */

/** The file `hactl run` reads when no --config is given and it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'hactl.config.yaml';

/** The run's own flags before the runtimes' (what runs, where, how much). */
const WHAT_AND_WHERE = [
  { key: 'strategy', option: '-s, --strategy <list>', value: 'list', default: 'all', help: strategyHelp(strategyRegistry) },
  { key: 'scenario', option: '-c, --scenario <list>', value: 'list', help: `scenarios, comma-separated: built-in names, paths to scenario .yaml files, or all (default: ${DEFAULT_SCENARIOS.join(',')})` },
  { key: 'replicas', option: '-r, --replicas <n>', value: 'whole', default: String(DEFAULTS.replicas), help: 'app replicas behind the balancer' },
  { key: 'users', option: '-u, --users <n>', value: 'whole', default: String(DEFAULTS.users), help: 'virtual users, each with its own identity and cookie jar' },
  { key: 'reads', option: '--reads <n>', value: 'whole', default: String(DEFAULTS.reads), help: 'session reads per user after login (scenarios scale their read phases from it)' },
  { key: 'concurrency', option: '--concurrency <n>', value: 'whole', default: String(DEFAULTS.concurrency), help: 'requests in flight at once (latency percentiles depend on it)' },
  { key: 'runtime', option: '--runtime <name>', value: 'text', default: DEFAULT_RUNTIME, help: 'where the cluster runs: local (child processes on 127.0.0.1), docker (containers on the engine DOCKER_HOST names) or external (a deployment that exists already, at --target)' },
] as const satisfies readonly FlagSpec[];

/** Reports, the balancer, the app, and the load. */
const HOW = [
  { key: 'format', option: '-f, --format <format>', value: 'text', default: 'table', choices: FORMAT_NAMES, help: 'report format' },
  { key: 'out', option: '-o, --out <file>', value: 'text', path: true, help: 'write the report to a file (the terminal still gets the table)' },
  { key: 'samples', option: '--samples <file>', value: 'text', path: true, help: 'also write every request of the scenarios\' users as one JSON line (strategy, scenario, phase, user, replica, status, latency, outcome)' },
  { key: 'seed', option: '--seed <n>', value: 'whole', help: 'seed for users and request order; the same seed repeats a run (default: random, printed)' },
  { key: 'port', option: '--port <n>', value: 'whole', help: 'balancer port on 127.0.0.1 (default: a free port)' },
  { key: 'balancer', option: '--balancer <kind>', value: 'text', help: `the load balancer: ${BALANCER_KINDS.join(' (its own, modelled on AWS ALB) or ')} (a real HAProxy, to cross-check it) (default: hactl)` },
  { key: 'balancerProfile', option: '--balancer-profile <name>', value: 'text', help: 'health checks, timeouts and deregistration delay: fast (test speed) or alb (AWS ALB\'s own defaults: checks every 30 s, a dead replica out of rotation after 30-70 s, deregistration 300 s; fault scenarios take minutes) (default: fast)' },
  { key: 'algorithm', option: '--algorithm <name>', value: 'text', help: `how the balancer picks a replica: ${ALGORITHMS.join(' or ')} (default: round_robin)` },
  { key: 'deregistrationDelay', option: '--deregistration-delay <s>', value: 'whole', help: 'how long a replica being removed may finish its requests, 0 to 3600 s (default: the profile\'s, 5 s fast, 300 s alb)' },
  { key: 'appProfile', option: '--app-profile <file>', value: 'text', path: true, help: 'how to talk to your app: a YAML app profile (cookie, login and read requests, what a hit looks like); examples in fixtures/apps/ of hactl\'s source repository, and README.md\'s "App profiles" (default: the demo app\'s)' },
] as const satisfies readonly FlagSpec[];

const APP_AND_LOAD = [
  { key: 'appEnv', option: '--app-env <key=value>', value: 'pairs', help: 'environment for your app\'s replicas, templated as --app-cmd; repeatable' },
  { key: 'requestTimeout', option: '--request-timeout <ms>', value: 'whole', default: String(DEFAULTS.requestTimeoutMs), help: 'how long a virtual user waits for an answer before counting an error' },
  { key: 'startupTimeout', option: '--startup-timeout <s>', value: 'whole', default: String(DEFAULTS.startupTimeoutSeconds), help: 'how long each replica of your app may take to answer its health path with 2xx' },
  { key: 'preflight', option: '--no-preflight', value: 'switch', help: 'skip the check of the app (start, health, login, read, store) before the first row' },
  { key: 'rate', option: '--rate <n>', value: 'whole', help: 'at most n requests a second from hactl to the app, in every sliding second (users, warm-up, logouts, pre-flight; on external, hactl\'s probes too) (default: no limit)' },
  {
    key: 'warmUp',
    option: '--warm-up',
    value: 'switch',
    help: 'throwaway users log in and read before each scenario, so that cold replicas do not show in latencies (default: on, off for --runtime external)',
    negation: { option: '--no-warm-up', help: 'no warm-up before each scenario' },
  },
  { key: 'storeReplicas', option: '--store-replicas <n>', value: 'whole', help: `replicas beside the primary of a replicated store variant (${REPLICATED_VARIANTS.join(', ')}), 1 to 5 (default: the variant's, 1; 2 for a mongo replica set)` },
  { key: 'failoverProfile', option: '--failover-profile <name>', value: 'text', choices: FAILOVER_PROFILES, help: 'how a replicated store fails over: fast (a dead primary noticed within about a second) or aws (the managed service\'s own waits: ElastiCache seconds) (default: fast)' },
  { key: 'replicationDelay', option: '--replication-delay <ms>', value: 'whole', help: 'latency on a replicated store\'s replication links in the replica-lag and replica-reads scenarios, 1 to 60000 ms; 1 is a cross-AZ round trip (default: 200)' },
  { key: 'idSample', option: '--id-sample <n>', value: 'whole', help: 'logins of the security scenario\'s session-id check, 30 to 100000; below 1000 it judges duplicates only (default: 1000)' },
] as const satisfies readonly FlagSpec[];

/** `hactl run`'s own flags beyond the run's settings: the config file, extra reports, what fails the run, output. */
export const COMMAND_FLAGS = [
  { key: 'config', option: '--config <file>', value: 'text', config: false, help: `a config file: every flag above by its long name, plus expectations (default: ${DEFAULT_CONFIG_FILE} if it exists; hactl init writes one)` },
  { key: 'junit', option: '--junit <file>', value: 'text', path: true, help: 'also write a JUnit XML report: a test case per strategy x scenario x expectation, and per security finding' },
  { key: 'html', option: '--html <file>', value: 'text', path: true, help: 'also write a self-contained HTML report with charts' },
  { key: 'pricing', option: '--pricing <file>', value: 'text', path: true, help: 'hourly instance prices of one instance class: a bundled file by name (aws-ap-northeast-2-t3-medium, aws-us-east-1) or a YAML file\'s path; a cost column in the Markdown comparison' },
  { key: 'strict', option: '--strict', value: 'switch', help: 'a skipped row fails the run (exit 1), as a failed expectation does' },
  { key: 'failOnFindings', option: '--fail-on-findings', value: 'switch', help: 'a failed security finding fails the run (exit 1), as a failed expectation does; n/a and facts never do' },
  { key: 'quiet', option: '-q, --quiet', value: 'switch', config: false, help: 'no progress lines on stderr' },
  { key: 'debug', option: '--debug', value: 'switch', config: false, help: 'print stack traces for errors' },
] as const satisfies readonly FlagSpec[];


/** The settings of a run, in --help's order: each runtime's own flags after --runtime, its app flag after --app-profile. */
export const RUN_FLAGS: readonly FlagSpec[] = [
  ...WHAT_AND_WHERE,
  ...RUNTIME_LIST.flatMap((runtime) => runtime.flags),
  ...HOW,
  ...RUNTIME_LIST.flatMap((runtime) => (runtime.app.flag ? [runtime.app.flag] : [])),
  ...APP_AND_LOAD,
];

/** Every flag of `hactl run` and `hactl check`. */
export const FLAGS: readonly FlagSpec[] = [...RUN_FLAGS, ...COMMAND_FLAGS];

/** The flags of `hactl run` as commander hands them over: strings (lists of them when repeatable), switches as booleans, undefined when absent. */
export type RunFlags = FlagValues<readonly (typeof WHAT_AND_WHERE | typeof HOW | typeof APP_AND_LOAD)[number][]> & FlagValues<readonly RuntimeFlagSpecs[]>;

/** `hactl run`'s options beyond the run's own settings. */
export type CommandFlags = FlagValues<typeof COMMAND_FLAGS>;

/** A flag's config-file key (its long name), or undefined for one the file cannot hold. */
export function configKey(flag: FlagSpec): string | undefined {
  return flag.config === false ? undefined : longName(flag);
}

/** The table's flag with this key (commander's camelCase name). */
export function flagOf(key: string): FlagSpec | undefined {
  return FLAGS.find((flag) => flag.key === key);
}
