import { describe, expect, it } from 'vitest';
import { answeringName, answersToJudge, candidateNames, cleanRun, detectionMoment, effectMoment, identityBefore, identityGap, replicaVerdict, storeFailure } from './fault-effect.js';
import type { Outcome, Sample } from './records.js';

/** A sample sent at `at`, answered 5 ms later. */
function sample(at: number, replica: string | null, outcome: Outcome = 'hit', user = 0): Sample {
  return { scenario: 's', phase: 'p', kind: 'read', user, replica, status: outcome === 'error' ? (replica === null ? 502 : 500) : 200, latencyMs: 5, outcome, at, end: at + 5 };
}

/** Round robin over three replicas every 10 ms from `from` to `to`, `dead` (from `deadFrom`) failing or skipped. */
function traffic(from: number, to: number, options: { dead?: string; deadFrom?: number; retried?: boolean } = {}): Sample[] {
  const samples: Sample[] = [];
  for (let at = from, i = 0; at < to; at += 10, i++) {
    const replica = `replica-${(i % 3) + 1}`;
    if (options.dead === replica && at >= (options.deadFrom ?? Infinity)) samples.push(options.retried ? sample(at, `replica-${((i + 1) % 3) + 1}`) : sample(at, null, 'error'));
    else samples.push(sample(at, replica));
  }
  return samples;
}

describe('a fault of the user\'s command, seen in the samples', () => {
  it('knows identity only from answers that name replicas, and whether the target was among them', () => {
    const named = traffic(0, 100);
    expect(identityBefore(named, 200, 'replica-1')).toEqual({ known: true, targetSeen: true, names: ['replica-1', 'replica-2', 'replica-3'] });
    expect(identityGap(identityBefore(named, 200, 'replica-1'))).toBeUndefined();
    expect(candidateNames(identityBefore(named, 200, 'replica-1'), 'replica-1')).toEqual(['replica-1']);
    const anonymous = named.map((s) => ({ ...s, replica: null }));
    expect(identityGap(identityBefore(anonymous, 200, 'replica-1'))).toMatch(/cannot see which replica answers .*give the app profile a replica: source that names every answer, or --verify-cmd/);
    // Answers that name replicas their own way (nginx's upstream address): any of them may be replica-1.
    const addresses = named.map((s) => ({ ...s, replica: s.replica!.replace('replica-', '127.0.0.1:808') }));
    expect(candidateNames(identityBefore(addresses, 200, 'replica-1'), 'replica-1')).toEqual(['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083']);
    // Only what was answered before the command counts.
    expect(identityBefore(named, 0, 'replica-1').known).toBe(false);
  });

  it('judges once, on the first answers to requests sent a settling time after the command ended', () => {
    const samples = traffic(0, 1000);
    // Round robin: replica-1 answered 2 of the first 6 answers from 500 on.
    expect(replicaVerdict(samples, ['replica-1'], 500, 6, { settleMs: 0 })).toEqual({ verdict: 'answered', names: ['replica-1'], answers: 2 });
    // Not before the window is complete, nor while a request sent before its last is in flight.
    expect(replicaVerdict(samples.filter((s) => s.at <= 540), ['replica-1'], 500, 6, { settleMs: 0 })).toBeUndefined();
    expect(replicaVerdict(samples, ['replica-1'], 500, 6, { settleMs: 0, oldestInFlight: 530 })).toBeUndefined();
    // Within the settling time (KILL_SETTLE_MS by default) its answers are no evidence: a stop call returns before the process is gone.
    expect(replicaVerdict(samples, ['replica-1'], 500, 6)).toBeUndefined();
    expect(replicaVerdict(traffic(0, 3000), ['replica-1'], 500, 6)).toMatchObject({ verdict: 'answered', names: ['replica-1'] });
    // Names of the deployment's own: every replica seen before answered again.
    const all = ['replica-1', 'replica-2', 'replica-3'];
    expect(replicaVerdict(samples, all, 500, 6, { settleMs: 0 })).toEqual({ verdict: 'answered', names: all, answers: 6 });
  });

  it('sees a replica that died a moment after its kill command returned as gone, not as never killed', () => {
    // The command ended at 500; the replica answered until 800, then died (its requests retried on the next).
    const samples = traffic(0, 3000, { dead: 'replica-1', deadFrom: 800, retried: true });
    expect(replicaVerdict(samples, ['replica-1'], 500, 6)).toEqual({ verdict: 'gone', name: 'replica-1', answers: 6 });
    const addresses = samples.map((s) => ({ ...s, replica: s.replica!.replace('replica-', '10.0.0.') }));
    expect(replicaVerdict(addresses, ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 500, 6)).toEqual({ verdict: 'gone', name: '10.0.0.1', answers: 6 });
  });

  it('needs enough answers that a live replica behind a balancer picking at random is not missing from them by chance', () => {
    expect(answersToJudge(2)).toBe(14);
    expect(answersToJudge(3)).toBe(23);
    expect(answersToJudge(10)).toBe(88);
    // A live replica behind a random balancer, judged as the phase judges it (polled every 100 ms): never gone.
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    let gone = 0;
    for (let run = 0; run < 200; run++) {
      const samples = Array.from({ length: 400 }, (_, i) => sample(i * 10, `replica-${Math.floor(random() * 3) + 1}`));
      for (let now = 2_600; now <= 4_000; now += 100) {
        if (replicaVerdict(samples.filter((s) => s.end <= now), ['replica-1'], 500, answersToJudge(3))?.verdict === 'gone') gone++;
      }
    }
    expect(gone).toBe(0);
  });

  it('says so when several names left the answers: which was the killed replica cannot be told', () => {
    const samples = traffic(0, 3000, { dead: 'replica-1', deadFrom: 300, retried: true }).filter((s) => s.replica !== 'replica-2' || s.at < 300);
    expect(replicaVerdict(samples, ['replica-1', 'replica-2', 'replica-3'], 500, 6)).toMatchObject({ verdict: 'ambiguous', names: ['replica-1', 'replica-2'] });
  });

  it('sees the replica gone when the window of answers named only others', () => {
    const samples = traffic(0, 3000, { dead: 'replica-1', deadFrom: 300, retried: true });
    expect(replicaVerdict(samples.filter((s) => s.at < 2540), ['replica-1'], 500, 6)).toBeUndefined();
    expect(replicaVerdict(samples, ['replica-1'], 500, 6)).toEqual({ verdict: 'gone', name: 'replica-1', answers: 6 });
  });

  it("does not judge while a request sent before the window's last answer is still in flight", () => {
    // replica-1 still lives, but its answer to the request sent at 2,500 is slow: the others' answers came first.
    const alive = traffic(0, 3000).filter((s) => !(s.replica === 'replica-1' && s.at === 2_520));
    expect(replicaVerdict(alive, ['replica-1'], 500, 6, { oldestInFlight: 2_520 })).toBeUndefined();
  });

  it('does not take a source that names few answers (a cookie set once per session) for identity', () => {
    // Every fourth answer names its replica, as a login setting a stickiness cookie would.
    const sparse = traffic(0, 1000).map((s, i) => (i % 4 === 0 ? s : { ...s, replica: null }));
    expect(identityBefore(sparse, 2000, 'replica-1')).toEqual({ known: false, targetSeen: false, names: [] });
    expect(identityGap(identityBefore(sparse, 2000, 'replica-1'))).toMatch(/most answers name none/);
  });

  it('knows the killed replica by the name answers gave it', () => {
    const samples = traffic(0, 100);
    expect(answeringName({ kind: 'kill-replica', target: 'replica-1', at: 50 }, samples)).toBe('replica-1');
    expect(answeringName({ kind: 'kill-replica', target: 'replica-1', at: 50, detail: { answersAs: '10.0.0.1:80' } }, samples)).toBe('10.0.0.1:80');
    expect(answeringName({ kind: 'kill-replica', target: 'replica-1', at: 50 }, samples.map((s) => ({ ...s, replica: null })))).toBeUndefined();
  });

  it('dates the fault from the first failure, not from the command, however long the command ran', () => {
    // The command started at 100 and slept long after killing at 300: the failures say when.
    const samples = traffic(0, 4000, { dead: 'replica-1', deadFrom: 300 });
    expect(effectMoment(samples, 100, {})).toEqual({ at: 300, effect: 'first-failure' });
    // With identity, its last answer (sent at 270) ended before its first failure.
    expect(effectMoment(samples, 100, { target: 'replica-1' })).toEqual({ at: 275, effect: 'replica-gone' });
  });

  it('dates the fault from the replica leaving the answers when a retrying proxy hides every failure', () => {
    const samples = traffic(0, 2000, { dead: 'replica-1', deadFrom: 600, retried: true });
    expect(effectMoment(samples, 100, { target: 'replica-1' })).toEqual({ at: 575, effect: 'replica-gone' });
    // Without identity nothing shows it: the command's start, said as such.
    expect(effectMoment(samples.map((s) => ({ ...s, replica: null })), 100, {})).toEqual({ at: 100, effect: 'command-start' });
  });

  it('never dates a fault before its command started', () => {
    const samples = [sample(50, null, 'error'), ...traffic(100, 200)];
    expect(effectMoment(samples, 52, {}).at).toBe(52);
  });

  it('detects when the replica got its last traffic: its answers and the failures no other replica gave', () => {
    const samples = traffic(0, 3000, { dead: 'replica-1', deadFrom: 300 });
    // HAProxy took it out at 1200: no failures after; the last one was sent at 1170.
    const detected = samples.filter((s) => !(s.outcome === 'error' && s.at >= 1200));
    expect(detectionMoment(detected, 'replica-1', 300, 3000)).toBe(1170);
    expect(cleanRun(detected, 'replica-1', 200, 6)).toBe(true);
    expect(cleanRun(samples, 'replica-1', 200, 6)).toBe(false);
    // A retrying proxy hid every attempt on the dead replica: when it took it out cannot be seen.
    expect(detectionMoment(traffic(0, 3000, { dead: 'replica-1', deadFrom: 300, retried: true }), 'replica-1', 275, 3000)).toBeUndefined();
  });

  it('counts as a store failure an error, or a miss of a user whose reads hit before the command', () => {
    const samples = [sample(0, null, 'hit', 1), sample(0, null, 'miss', 2), sample(100, null, 'miss', 1), sample(100, null, 'miss', 2), sample(110, null, 'error', 3)];
    const failed = storeFailure(samples, 50);
    expect(samples.map(failed)).toEqual([false, false, true, false, true]);
  });
});
