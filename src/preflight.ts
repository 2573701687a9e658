import type { AppProfile } from './driver/app-profile.js';
import { classifyAction, Driver, type Exchange } from './driver/driver.js';
import { createRng } from './driver/rng.js';
import { makeUsers } from './driver/users.js';
import type { RateLimiter } from './platform/rate-limit.js';
import { errorMessage } from './platform/errors.js';
import { missingSessionCookie } from './driver/phases/login.js';
import { logIn } from './driver/login-flow.js';
import { describeProbe, healthCheckVerdict } from './runtime/health-check-probe.js';
import { describeAnswer, excerptOf } from './runtime/http-probe.js';
import type { Cluster, Runtime } from './runtime/runtime.js';
import type { RunningStore } from './stores/store.js';
import { stores } from './stores/index.js';
import { countStoreEntries, storeUnused } from './stores/usage.js';
import type { Topology } from './topology/plan.js';
import type { PreflightStep, PreflightStepName } from './report/events.js';

export type { PreflightStep, PreflightStepName };

const EXCERPT_CHARS = 120;

/**
 * One replica of the app behind the balancer, and one user through it: does it start, does its
 * health path answer what the balancer accepts, does a login give a session cookie, does a read
 * with it satisfy the profile's hit predicate, and did the app write to the strategy's store.
 * Each is a precondition of every figure a row shows; a row whose precondition fails measures
 * the mistake, not the strategy. Everything started here is stopped before it returns.
 */
export async function preflight(input: {
  topology: Topology;
  runtime: Runtime;
  profile: AppProfile;
  store?: RunningStore;
  requestTimeoutMs: number;
  /** --rate: the run's limiter; the pre-flight's requests count too. */
  limiter?: RateLimiter;
  signal: AbortSignal;
}): Promise<PreflightStep[]> {
  const { topology, profile, signal } = input;
  const steps: PreflightStep[] = [];
  // A deployment hactl did not build: its start is its target answering, and its balancer's health checks are its own.
  const external = input.runtime.startsNothing === true;
  const check = topology.balancer.healthCheck;
  let cluster: Cluster;
  try {
    cluster = await input.runtime.startCluster({ ...topology, replicas: topology.replicas.slice(0, 1) }, input.store);
  } catch (error) {
    signal.throwIfAborted();
    steps.push({
      step: 'start',
      ok: false,
      detail: errorMessage(error),
      fix: external
        ? `check --target and that the deployment answers ${check.path} (the profile's health path) with 2xx through it`
        : `check that the app starts with the command or image given and answers ${check.path} with 2xx (the profile's health path), within --startup-timeout`,
    });
    return steps;
  }
  const driver = new Driver(cluster.balancerUrl, {
    scenario: 'pre-flight',
    concurrency: 1,
    requestTimeoutMs: input.requestTimeoutMs,
    signal,
    ...(profile.replica ? { replica: profile.replica } : {}),
    ...(input.limiter ? { limiter: input.limiter } : {}),
  });
  // Set once a login gave the user a session: it logs out before the pre-flight ends, so a live deployment keeps none of it.
  let session: { jar: ReturnType<typeof makeUsers>[number]['jar'] } | undefined;
  try {
    steps.push({ step: 'start', ok: true, detail: external ? `${cluster.balancerUrl}${check.path} answered 2xx` : `${cluster.replicaIds[0]} answered its health path` });

    const verdict = cluster.directTargets ? await healthCheckVerdict(cluster.directTargets, check, signal) : undefined;
    const probe = verdict?.probes.find((answer) => answer.passed) ?? verdict?.probes[0];
    if (verdict && !verdict.passing && probe) {
      steps.push({
        step: 'health',
        ok: false,
        detail: `the balancer's health check failed: ${describeProbe(probe, check.path)}`,
        fix: `the profile's health path must answer ${check.matcher} within ${check.timeoutMs} ms, or the balancer can never take a dead replica out`,
      });
      return steps;
    }
    const unprobed = external ? `not checked: the deployment's balancer runs its own health checks, which hactl cannot see` : `not probed directly (${check.path})`;
    steps.push({ step: 'health', ok: true, detail: probe ? `${describeProbe(probe, check.path)} (the balancer accepts ${check.matcher})` : unprobed });

    const storeBefore = input.store ? await countStoreEntries(input.store) : 0;
    const [user] = makeUsers(1, createRng(1).fork('pre-flight'), profile.accounts);
    const meta = { phase: 'pre-flight', kind: 'pre-flight', user: 0 };
    const attempt = await logIn(profile.login, user!.identity, user!.jar, driver.origin, (request) => driver.send(user!.jar, request, meta, classifyAction));
    const loggedIn = attempt.last;
    // Every request of the login with its answer, the body only of the last (a failed step is the
    // last one shown): a login page's HTML before it says nothing.
    const loginSeen = attempt.exchanges
      .map(({ request, answer }, index, all) => `${request.method} ${request.path} ${index === all.length - 1 || answer.status === 0 ? answered(answer) : `answered ${answer.status}`}`)
      .join(', then ');
    const refused = loggedIn.status === 0 || loggedIn.status >= 400;
    // Judged as the login phase judges it: the cookie counts where the read will carry it.
    const missing =
      refused || attempt.failure !== undefined
        ? undefined
        : missingSessionCookie(
            attempt.exchanges.map(({ answer }) => answer),
            user!.jar,
            new URL(profile.read.path, cluster.balancerUrl),
            profile.cookieName,
          );
    if (refused || attempt.failure !== undefined || missing !== undefined) {
      steps.push({
        step: 'login',
        ok: false,
        detail:
          missing !== undefined
            ? `${loginSeen}, ${missing} (cookies set: ${attempt.exchanges.map(({ answer }) => setCookieNames(answer)).filter(Boolean).join(', ') || 'none'})`
            : attempt.failure !== undefined && profile.login.length > 1
              ? `${loginSeen}: ${attempt.failure}`
              : loginSeen,
        fix:
          loggedIn.status === 403
            ? profile.login.length > 1
              ? "a 403 at login is often a CSRF check: check that a step captures the token (capture:) and the form or header sends it ({{name}})"
              : 'a 403 at login is often a CSRF check (Django, Rails and Spring Security want a token by default): exempt the login path for the test, or give the profile login steps that fetch the login page and capture its token (capture:)'
            : attempt.failure !== undefined && profile.login.length > 1
              ? "check the profile's login steps: what each sends, captures and accepts (redirect:)"
              : `check the profile's login request and cookie name (${profile.cookieName})`,
      });
      return steps;
    }
    session = { jar: user!.jar };
    steps.push({ step: 'login', ok: true, detail: `${loginSeen}, set ${profile.cookieName}` });

    const read = await driver.send(user!.jar, profile.read, meta, classifyAction);
    const hit = read.status !== 0 && profile.isHit(read.status, read.body, user!.identity);
    const readSeen = `${profile.read.method} ${profile.read.path} ${answered(read)}`;
    if (!hit) {
      steps.push({
        step: 'read',
        ok: false,
        detail: `${readSeen}: the profile's hit predicate does not hold for the user who just logged in`,
        fix: "check the profile's read request and read.hit (status and json paths or body pattern) against that answer",
      });
      return steps;
    }
    steps.push({ step: 'read', ok: true, detail: `${readSeen}: the hit predicate holds` });

    if (input.store) {
      const after = await countStoreEntries(input.store);
      const unused = storeUnused(input.store, 1, storeBefore, after);
      if (unused) steps.push({ step: 'store', ok: false, detail: unused, fix: `pass {${stores[input.store.name].urlField}} to the app (--app-env or --app-cmd) and have it keep its sessions there` });
      else if (typeof storeBefore === 'number' && typeof after === 'number') steps.push({ step: 'store', ok: true, detail: `the app wrote its session to ${input.store.name} (${storeBefore} entries before the login, ${after} after)` });
      else if (!input.store.countEntries) steps.push({ step: 'store', ok: true, detail: `not checked: hactl cannot see ${input.store.description}` });
      else steps.push({ step: 'store', ok: true, detail: `not checked: ${typeof storeBefore === 'string' ? storeBefore : after}` });
    }
    return steps;
  } finally {
    // Best effort: a failed logout changes no step's verdict, and the driver's timeout bounds it.
    if (session && profile.logout && !signal.aborted) await driver.send(session.jar, profile.logout, { phase: 'pre-flight', kind: 'pre-flight', user: 0 }, classifyAction).catch(() => undefined);
    await driver.close();
    await cluster.stop();
  }
}

function answered(exchange: Exchange): string {
  if (exchange.status === 0) return `got no answer (${exchange.error ?? 'no response'})`;
  return describeAnswer({ status: exchange.status, excerpt: excerptOf(exchange.body, EXCERPT_CHARS) });
}

function setCookieNames(exchange: Exchange): string {
  return exchange.setCookies.map((line) => line.split('=')[0]!.trim()).join(', ');
}

/** The one line a failed pre-flight gives a row, or undefined when every step passed. */
export function preflightFailure(steps: readonly PreflightStep[]): { step: PreflightStepName; reason: string; fix?: string } | undefined {
  const failed = steps.find((step) => !step.ok);
  if (!failed) return undefined;
  return { step: failed.step, reason: `pre-flight ${failed.step}: ${failed.detail}`, ...(failed.fix ? { fix: failed.fix } : {}) };
}
