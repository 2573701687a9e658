/**
 * What `hactl init` writes: a config file that runs as it is, with every setting a CI job is
 * likely to want, commented. A test keeps it valid.
 */
export const STARTER_CONFIG = `# hactl.config.yaml: what \`hactl run\` runs, and what it must show.
# hactl reads this file from the working directory (or --config FILE); flags on the command line
# override it. Paths and commands are relative to this file's folder: app-cmd runs there.
# Reference: README.md, "CI mode".

# Session strategies to compare: none, sticky, redis, postgres, mongo, and variants such as
# redis:aof-always, redis:replica or sticky:app_cookie.
strategy: [none, sticky, redis, postgres]

# Scenarios: built-in names (login-read, kill-node, cookie-swap, kill-store, restart-node,
# rolling-restart, concurrent-writes, concurrent-writes-resave, expiry, imbalance, store-latency,
# store-outage, store-failover, replica-lag, replica-reads, security) or paths to scenario files.
scenario: [login-read, kill-node, cookie-swap]

replicas: 3
users: 30
# The same seed repeats users and request order, so a regression shows up as a change in figures.
seed: 2026

# Your own app instead of the demo app (see README.md, "Testing your own app"):
# app-profile: fixtures/apps/php.yaml
# app-cmd: sh fixtures/apps/php/launch.sh {port} {replica} {redisHost} {redisPort}
# app-env: { SESSION_IDLE_SECONDS: 5 }

# A deployment that exists already instead of a cluster hactl builds (see README.md, "External"):
# hactl starts nothing, sends its users to target, and breaks things only with your commands.
# Give strategy the one strategy it uses, and replicas how many it has.
# runtime: external
# target: https://staging.shop.example.com
# kill-replica-cmd: ./ops/kill-task {replica} {signal}    # {replica}, {ordinal}, {signal}, {target} filled in
# start-replica-cmd: ./ops/start-task {replica}           # default: the platform restarts it
# kill-store-cmd: ./ops/stop-redis                       # without it, kill-store is skipped
# start-store-cmd: ./ops/start-redis                     # default: the platform restarts it
# verify-cmd: ./ops/task-gone {replica}                  # exits 0 once the fault took effect
# store-ready-cmd: redis-cli -u "$REDIS_URL" ping          # exits 0 once the store is back
# fault-timeout: 120                                     # seconds each fault command may take
# rate: 200                                              # requests per second at most
# warm-up: false                                         # external runs have none unless asked
# id-sample: 100                                         # logins the security scenario samples session ids from

# Reports for CI: JUnit XML for the CI's test view, JSON to keep, HTML to look at.
junit: hactl-junit.xml
# format: json
# out: hactl-report.json
# html: hactl-report.html

# strict: true             # a skipped row (a store that is not installed, say) fails the run too
# fail-on-findings: true   # a failed security finding fails the run too, named or not below

# Expectations per strategy and scenario (* matches any): a figure and a bound, as k6 writes
# thresholds: <, <=, >, >=, ==, != and a number (a % after it divides by 100); findings take
# pass, fail or n/a (a check that could not be made, as cookie-secure over plain HTTP).
# Figures: hitRate, missRate, errors, sessionLoss, recoveryMs, detectionMs, imbalance,
# lostUpdates, lostUpdates.rate, read.p50/p95/p99/max, login.p99, expiry.stale,
# storeFault.errorRate, storeFault.hung, storeFault.failOpen, finding.<id> (README.md, "Finding ids").
# Exit code 1 when one fails; the JUnit file names the figure and the bound, and has a test case
# per security finding besides (an expectation on finding.<id> is that finding's case).
expect:
  none:
    login-read: { hitRate: '< 0.5' }          # without stickiness or a store, sessions are lost between replicas
  sticky:
    login-read: { hitRate: '>= 1' }
  redis:
    login-read: { hitRate: '>= 1', read.p99: '< 250' }
    kill-node: { sessionLoss: '== 0' }
  postgres:
    login-read: { hitRate: '>= 1' }
    kill-node: { sessionLoss: '== 0' }
  '*':
    cookie-swap: { finding.forged-id-adopted: pass, finding.forged-id-read: pass }
`;
