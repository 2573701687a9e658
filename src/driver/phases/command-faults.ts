/**
 * Faults made by the user's commands (a cluster or store with `commandFaults`, --runtime
 * external): users keep reading while a command runs, the fault's moment is found from what
 * they saw, and the fault is verified before any figure after it is taken as a result.
 */
import { EnvironmentError, errorMessage, StoreLostError } from '../../platform/errors.js';
import { FaultCommandError, type CommandRun } from '../../platform/fault-command.js';
import type { CommandFaults, ReplicaCommandFaults, StoreCommandFaults } from '../../runtime/runtime.js';
import type { RunningStore } from '../../stores/store.js';
import { sleep } from '../../platform/time.js';
import { newJar } from '../cookie-memo.js';
import { classifyAction, type Driver } from '../driver.js';
import { logIn } from '../login-flow.js';
import { answeringName, answersToJudge, candidateNames, effectMoment, identityBefore, identityGap, KILL_SETTLE_MS, replicaVerdict, storeFailure } from '../fault-effect.js';
import { makeIdentity } from '../users.js';
import type { HttpRequest } from '../app-profile.js';
import type { PhaseClient } from '../phase.js';
import { isFault, recordEffect, recordVerdict, type CommandFault, type Fault, type FaultCommandRun, type FaultVerdict } from '../records.js';
import type { KillReplicaFault } from './kill-replica.js';
import type { KillStoreFault } from './kill-store.js';
import { readWhile, STOP_GRACE_MS } from './read.js';

/** How often hactl looks at the samples for a fault's effect, and runs a polled command. */
const LOOK_EVERY_MS = 100;
const POLL_COMMAND_EVERY_MS = 500;

/** A command's run in scenario time, as the report keeps it. */
export function recordRun(driver: Pick<Driver, 'fromEpoch'>, run: CommandRun): FaultCommandRun {
  return { flag: run.flag, command: run.command, startAt: driver.fromEpoch(run.startAt), endAt: driver.fromEpoch(run.endAt), exit: run.exit, output: run.output };
}

/**
 * Refuses a fault at a deployment that is not answering, or before any read of the scenario hit:
 * its figures could measure nothing, and the fault would harm a deployment for no result.
 */
export async function guardFault(context: PhaseClient, commands: CommandFaults | undefined): Promise<void> {
  const problem = await commands?.targetProblem();
  if (problem) throw new EnvironmentError(`phase ${context.phase}: ${problem}`);
  if (!context.samples.some((sample) => sample.outcome === 'hit')) {
    throw new EnvironmentError(`phase ${context.phase}: no read of this scenario hit before the fault, so nothing after it could be measured; hactl fires no fault then (check the app profile's login and read)`);
  }
}

/** Runs a fault command while users read, and records the run on the fault (a failed one too). */
async function runRecorded(context: PhaseClient, fault: CommandFault, command: Promise<CommandRun>, timeoutMs: number): Promise<FaultCommandRun> {
  const recorded = command.then(
    (run) => recordRun(context, run),
    (error: unknown) => {
      if (error instanceof FaultCommandError) (fault.commands ??= []).push(recordRun(context, error.run));
      throw error;
    },
  );
  // The command bounds itself by the same limit (its process group is killed at it).
  const run = await readWhile(context, () => recorded, timeoutMs);
  (fault.commands ??= []).push(run);
  return run;
}

/**
 * Polls `check` every `everyMs` (the next poll once the last one is done), while users read,
 * until it gives a value or `timeoutMs` passes (undefined then). A check under way at the deadline
 * (a --store-ready-cmd, a control user's login and read) is awaited, and its answer counts: it
 * bounds itself by `checkBoundMs`, and a store back at the edge is back.
 */
async function pollWhileReading<T>(
  context: PhaseClient,
  check: () => Promise<T | undefined> | T | undefined,
  everyMs: number,
  timeoutMs: number,
  checkBoundMs: number,
): Promise<T | undefined> {
  const polling = async (signal: AbortSignal) => {
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      // The deadline passed (undefined then), or the run is being stopped (thrown).
      context.signal.throwIfAborted();
      if (signal.aborted) return undefined;
      await sleep(everyMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return undefined;
    }
  };
  return readWhile(context, polling, timeoutMs, Math.max(STOP_GRACE_MS, checkBoundMs));
}

/** --verify-cmd, polled: the first run that exits 0, else the last run. */
function verifier(context: PhaseClient, verify: () => Promise<CommandRun>) {
  let last: CommandRun | undefined;
  let running: Promise<void> | undefined;
  let tries = 0;
  let lastStart = -Infinity;
  return {
    /** Starts a run when none is going and the last began POLL_COMMAND_EVERY_MS ago; true once one passed. */
    tick(): boolean {
      if (last?.ok) return true;
      if (!running && Date.now() - lastStart >= POLL_COMMAND_EVERY_MS) {
        lastStart = Date.now();
        tries++;
        // Handled at once: a run that could not start (or was cut by the run's interruption) is a try that did not pass.
        running = verify()
          .then(
            (run) => void (last = run),
            () => undefined,
          )
          .finally(() => (running = undefined));
      }
      return false;
    },
    async settle(): Promise<void> {
      await running;
    },
    get last() {
      return last;
    },
    get tries() {
      return tries;
    },
    record(fault: CommandFault) {
      if (last) (fault.commands ??= []).push(recordRun(context, last));
    },
  };
}

/** kill-replica through --kill-replica-cmd: verified by the replica leaving the answers, or by --verify-cmd. */
export async function killReplicaByCommand(context: PhaseClient, commands: ReplicaCommandFaults, target: string, signal: NodeJS.Signals): Promise<void> {
  await guardFault(context, commands);
  const fault: KillReplicaFault = { kind: 'kill-replica', target, at: context.now(), commands: [] };
  context.faults.push(fault);
  const run = await runRecorded(context, fault, commands.kill(target, signal), commands.timeoutMs);
  fault.at = run.startAt;
  const samples = context.samples;
  const identity = identityBefore(samples, run.startAt, target);
  const gap = identityGap(identity);
  const candidates = candidateNames(identity, target);
  const judged = answersToJudge(context.cluster.replicaIds.length);
  const verify = commands.verify ? verifier(context, () => commands.verify!('kill-replica', target)) : undefined;
  /** The name answers gave the killed replica, once its disappearance showed it. */
  let name: string | undefined;
  let verdict: FaultVerdict | undefined;
  if (gap !== undefined && !verify) {
    verdict = { observed: false, observation: gap };
  } else {
    verdict = await pollWhileReading(
      context,
      () => {
        if (gap === undefined) {
          const oldest = context.oldestInFlightAt();
          const seen = replicaVerdict(samples, candidates, run.endAt, judged, oldest !== undefined ? { oldestInFlight: oldest } : {});
          // With --verify-cmd the user says when the fault took effect (a stop call may take a while).
          if (seen?.verdict === 'answered' && !verify) return { observed: false, observation: answeredAfter(target, seen) };
          if (seen?.verdict === 'ambiguous' && !verify) {
            return { observed: false, observation: `${seen.names.join(', ')} all answered none of the ${seen.answers} requests sent from ${KILL_SETTLE_MS / 1000} s after the kill command ended: which one was ${target} cannot be told` };
          }
          if (seen?.verdict === 'gone') {
            name = seen.name;
            const who = seen.name === target ? target : `${seen.name}, the one replica seen before the kill that stopped answering (taken for ${target}),`;
            return { observed: true, observation: `${who} answered none of the ${seen.answers} requests sent from ${KILL_SETTLE_MS / 1000} s after the kill command ended` };
          }
        }
        if (verify?.tick()) return { observed: true, observation: `--verify-cmd passed ${secondsSince(context, run.endAt)} after the kill command ended${gap ? ` (${gap.split(':')[0]})` : ''}` };
        return undefined;
      },
      LOOK_EVERY_MS,
      commands.timeoutMs,
      commands.timeoutMs,
    );
    await verify?.settle();
    verify?.record(fault);
    verdict ??= {
      observed: false,
      observation:
        `within ${Math.round(commands.timeoutMs / 1000)} s of the kill command ` +
        [gap === undefined ? `the answers never showed whether a replica left (${judged} answers to requests sent from ${KILL_SETTLE_MS / 1000} s after the command)` : gap, verify ? `--verify-cmd did not pass (${verify.tries} tries, last ${verify.last?.exit ?? 'none'})` : '']
          .filter(Boolean)
          .join('; '),
    };
  }
  recordVerdict(fault, verdict);
  if (name !== undefined && name !== target) fault.detail = { ...fault.detail, answersAs: name };
  // Measured from when the fault took effect, not from when the command was started: a command
  // that waits (kubectl delete pod) would otherwise count its own run as detection and recovery.
  const effect = verdict.observed ? effectMoment(samples, run.startAt, name !== undefined ? { target: name } : {}) : { at: run.startAt, effect: 'command-start' as const };
  recordEffect(fault, effect);
}

function answeredAfter(target: string, seen: { names: string[]; answers: number }): string {
  const after = `sent from ${KILL_SETTLE_MS / 1000} s after the kill command ended`;
  const advice = 'the fault did not happen (a command that returns before the replica is down should wait for it, or give --verify-cmd)';
  if (seen.names.length === 1 && seen.names[0] === target) {
    return `${target} answered ${seen.answers} request${seen.answers === 1 ? '' : 's'} ${after}: ${advice}`;
  }
  return `every replica answering before the kill (${seen.names.join(', ')}) answered requests ${after} (${seen.answers} answers): ${advice}`;
}

function secondsSince(context: PhaseClient, at: number): string {
  return `${((context.now() - at) / 1000).toFixed(1)} s`;
}

/**
 * kill-store through --kill-store-cmd (and --start-store-cmd): users read until the store is
 * back (--store-ready-cmd passes, or a control user logged in after the kill reads its session),
 * so that session loss is measured on a store that is up; verified by --verify-cmd or by a
 * request that failed in between.
 */
export async function killStoreByCommand(context: PhaseClient, store: RunningStore, commands: StoreCommandFaults, options: { signal: NodeJS.Signals; downMs: number }): Promise<void> {
  await guardFault(context, context.cluster.commandFaults);
  const accounts = context.profile.accounts;
  if (!commands.ready && accounts && accounts.length <= context.users.length) {
    throw new EnvironmentError(
      `phase ${context.phase}: after the kill a control user logs in to see whether the store is back, and every test account (${accounts.length}) is a scenario user's: ` +
        `a second login to a user's account may end that user's session on some apps, which would count as lost; add an account to ${context.profile.accountsSource ?? 'the accounts file'}, lower --users, or give --store-ready-cmd`,
    );
  }
  const fault: KillStoreFault = { kind: 'kill-store', target: store.name, at: context.now(), detail: { signal: options.signal, downMs: options.downMs }, commands: [] };
  context.faults.push(fault);
  const limit = context.cluster.commandFaults?.timeoutMs ?? commands.backWithinMs;
  const run = await runRecorded(context, fault, commands.kill(options.signal), limit);
  fault.at = run.startAt;
  const verify = context.cluster.commandFaults?.verify ? verifier(context, () => context.cluster.commandFaults!.verify!('kill-store')) : undefined;
  if (options.downMs > 0) await readWhile(context, () => sleep(options.downMs, undefined, { signal: context.signal }), options.downMs);
  if (commands.start) await runRecorded(context, fault, commands.start(), limit);

  const control = controlUser(context);
  // A control user can log in unless every test account is a scenario user's (then only --store-ready-cmd says).
  const controlUsable = !accounts || accounts.length > context.users.length;
  let lastSeen = 'nothing answered yet';
  let readyRun: CommandRun | undefined;
  try {
    const back = await pollWhileReading(
      context,
      async () => {
        verify?.tick();
        if (commands.ready && !readyRun?.ok) {
          readyRun = await commands.ready();
          lastSeen = `--store-ready-cmd: ${readyRun.exit}${readyRun.output ? `, ${readyRun.output}` : ''}`;
          if (!readyRun.ok) return undefined;
        }
        // Even after --store-ready-cmd passed: a command that passes too early (the store's port
        // open, its data still loading) would have every session counted lost.
        if (commands.ready && !controlUsable) return true;
        const seen = await control.reads();
        lastSeen = `a control user logged in after the kill: ${seen.detail}`;
        return seen.hit || undefined;
      },
      POLL_COMMAND_EVERY_MS,
      commands.backWithinMs,
      // A --store-ready-cmd run within the command limit, then the control user's login and read.
      limit + STOP_GRACE_MS,
    );
    if (readyRun) fault.commands!.push(recordRun(context, readyRun));
    if (!back) throw new StoreLostError(`the store did not come back within ${Math.round(commands.backWithinMs / 1000)} s of the kill (last seen: ${lastSeen}); no session loss can be measured on a store that is down`);
  } finally {
    await verify?.settle();
    await control.close();
  }
  fault.endAt = context.now();
  verify?.record(fault);

  const samples = context.samples;
  const failed = storeFailure(samples, run.startAt);
  const during = samples.filter((sample) => sample.end >= run.startAt && sample.at <= fault.endAt! && failed(sample));
  const failures = during.length;
  // Back, as users saw it: the end of the last request that failed before the control user saw
  // the store back. Not the control user's own moment, which lags by its polling and comes only
  // after the kill (and start) command returned: a command that waits would count as outage.
  const backAt = during.reduce((last, sample) => Math.max(last, sample.end), Number.NEGATIVE_INFINITY);
  if (backAt > Number.NEGATIVE_INFINITY) fault.backAt = backAt;
  if (verify?.last?.ok) recordVerdict(fault, { observed: true, observation: `--verify-cmd passed after the kill command` });
  else if (failures > 0) recordVerdict(fault, { observed: true, observation: `${failures} request${failures === 1 ? '' : 's'} failed (an error, or a miss of a user whose reads hit before) between the kill command and the store being back` });
  else recordVerdict(fault, { observed: false, observation: `no request failed between the kill command and the store being back${verify ? ', and --verify-cmd did not pass' : ''}: nothing shows that the store went down` });
  recordEffect(fault, fault.observed ? effectMoment(samples, run.startAt, { failed, until: fault.endAt }) : { at: run.startAt, effect: 'command-start' });
}

/** A throwaway user on a driver of its own (not a sample of the row) that logs in afresh and reads, to see whether sessions work again. */
function controlUser(context: PhaseClient) {
  const driver = context.fork('control');
  // With test accounts, a row no scenario user holds (killStoreByCommand made sure there is one):
  // an invented user cannot log in to an app with real accounts.
  const accounts = context.profile.accounts;
  const identity = accounts && accounts.length > context.users.length ? accounts[context.users.length]! : makeIdentity(context.rng.fork('control-user'), 'control');
  const meta = { phase: 'control', kind: 'control', user: -1 };
  let jar = newJar();
  return {
    async reads(): Promise<{ hit: boolean; detail: string }> {
      jar = newJar();
      try {
        const attempt = await logIn(context.profile.login, identity, jar, driver.origin, (request) => driver.send(jar, request, meta, classifyAction));
        const login = attempt.last;
        if (login.status === 0 || login.status >= 400) return { hit: false, detail: `its login answered ${login.status === 0 ? `nothing (${login.error ?? 'no answer'})` : login.status}` };
        if (attempt.failure !== undefined) return { hit: false, detail: `its login failed: ${attempt.failure}` };
        const read = await driver.send(jar, context.profile.read, meta, classifyAction);
        const hit = context.profile.isHit(read.status, read.body, identity);
        return { hit, detail: hit ? 'its read hit' : `its read answered ${read.status === 0 ? `nothing (${read.error ?? 'no answer'})` : `${read.status} without its session`}` };
      } catch (error) {
        context.signal.throwIfAborted();
        return { hit: false, detail: errorMessage(error) };
      }
    },
    async close() {
      // Leaves no session of its own behind when the app can log out.
      if (context.profile.logout && !context.signal.aborted) await driver.send(jar, context.profile.logout, meta, classifyAction).catch(() => undefined);
      await driver.close();
    },
  };
}

/** How long hactl looks for a killed replica the platform restarts by itself (no --start-replica-cmd). */
const PLATFORM_RESTART_LOOK_MS = 10_000;
/** How long hactl looks for a replica whose kill was not observed, to tell whether it is still up. */
const STILL_UP_LOOK_MS = 3_000;

/**
 * After a scenario that killed replicas through the user's command: --start-replica-cmd for each
 * (recorded on its fault), then a bounded wait until the replica is seen again: in the answers
 * to probes through the target (its health path and read path, without cookies; no sample of
 * the row) when answers name replicas, else the health path answering 2 x replicas times in a
 * row. The fault's endAt is when it was back. Returns, per replica not restored, why.
 */
export async function restoreReplicas(input: { driver: Driver; profile: PhaseClient['profile']; cluster: PhaseClient['cluster']; faults: readonly Fault[]; signal: AbortSignal }): Promise<string[]> {
  const commands = input.cluster.commandFaults;
  if (!commands) return [];
  const problems: string[] = [];
  // A kill command that could not even be run touched nothing.
  const killed = input.faults.filter(isFault('kill-replica')).filter((fault) => fault.commands !== undefined && fault.commands.length > 0);
  for (const fault of killed) {
    input.signal.throwIfAborted();
    const kill = fault.commands![0]!;
    const samples = input.driver.samples;
    const identity = identityBefore(samples, kill.startAt, fault.target);
    const name = answeringName(fault, samples);
    // The shell found no such command, or could not run it: nothing was killed.
    if (kill.exit === 'exit 126' || kill.exit === 'exit 127') continue;
    // Answered after its kill command (or the command failed): if it still answers now it never
    // went down, and starting it again would start a second one; a stop call that took effect late
    // left it down all the same.
    const doubtful = fault.observed === false || kill.exit !== 'exit 0';
    if (doubtful && identity.known && (await seenAgain(input, name !== undefined ? [name] : identity.names, STILL_UP_LOOK_MS))) continue;
    if (commands.start) {
      let run: CommandRun;
      try {
        run = await commands.start(fault.target);
      } catch (error) {
        if (error instanceof FaultCommandError) fault.commands!.push(recordRun(input.driver, error.run));
        problems.push(`${fault.target} was killed and --start-replica-cmd failed: ${errorMessage(error)}`);
        continue;
      }
      fault.commands!.push(recordRun(input.driver, run));
    }
    const waitMs = commands.start ? commands.timeoutMs : PLATFORM_RESTART_LOOK_MS;
    let back: boolean;
    if (name !== undefined) back = await seenAgain(input, [name], waitMs);
    else if (commands.start) back = await commands.healthStreak(waitMs, input.signal);
    else {
      problems.push(`${fault.target} was killed and hactl cannot tell whether it came back: no --start-replica-cmd, and ${identity.known ? 'no answer was seen to be its' : 'answers do not name replicas'}`);
      continue;
    }
    if (back) fault.endAt = input.driver.now();
    else {
      const who = name !== undefined && name !== fault.target ? `${fault.target} (answering as ${name})` : fault.target;
      const how = name !== undefined ? `did not answer a probe through the target within ${Math.round(waitMs / 1000)} s` : `the health path did not answer ${2 * input.cluster.replicaIds.length} times in a row within ${Math.round(waitMs / 1000)} s`;
      problems.push(`${who} was killed and ${commands.start ? `after --start-replica-cmd ${how}` : `no --start-replica-cmd was given, and it ${how}`}`);
    }
  }
  return problems;
}

/** How often hactl probes for a restarted replica, and how many of the probes read the read path (the rest, the health path). */
const PROBE_EVERY_MS = 200;
const READ_PROBE_EVERY = 4;

/**
 * Probes through the target, the health path and now and then the read path (an app may name
 * itself only in its own answers), until each of `names` has answered one. Gently: a deployment
 * whose proxy keeps a failed upstream out for a while (nginx's fail_timeout, 10 s) gets a probe
 * every 200 ms.
 */
async function seenAgain(input: { driver: Driver; profile: PhaseClient['profile']; signal: AbortSignal }, names: readonly string[], waitMs: number): Promise<boolean> {
  const unseen = new Set(names);
  const driver = input.driver.fork('probe');
  const meta = { phase: 'probe', kind: 'probe', user: -1 };
  // A fresh jar each time: no cookie, so no session and no stickiness pins the probe to one replica.
  const health: HttpRequest = { method: 'GET', path: input.profile.healthPath };
  const deadline = Date.now() + waitMs;
  try {
    for (let i = 1; Date.now() < deadline; i++) {
      input.signal.throwIfAborted();
      const answer = await driver.send(newJar(), i % READ_PROBE_EVERY === 0 ? input.profile.read : health, meta, classifyAction);
      if (answer.replica !== null) unseen.delete(answer.replica);
      if (unseen.size === 0) return true;
      await sleep(PROBE_EVERY_MS, undefined, { signal: input.signal });
    }
    return false;
  } finally {
    await driver.close();
  }
}
