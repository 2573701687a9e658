import { describe, expect, it } from 'vitest';
import { missingRequestFindings } from '../driver/phase.js';
import { UsageError } from '../platform/errors.js';
import { demoProfile } from './demo-profile.js';
import { compileAppProfile } from './app-profile.js';
import { appConflict, builtinScenarioNames, loadScenario, parseScenario, scenarioConflict, strategyConflict } from './scenario.js';
import { ALB_HEALTH_CHECK, FAST_HEALTH_CHECK } from '../balancer/settings.js';

const counts = { reads: 10, replicas: 3, users: 30 };
const memory = { strategy: 'none' };
const redis = { strategy: 'redis', store: 'redis' };

describe('built-in scenarios', () => {
  it('are login-read, kill-node and cookie-swap, and all validate', async () => {
    const names = await builtinScenarioNames();
    expect(names).toEqual(expect.arrayContaining(['login-read', 'kill-node', 'cookie-swap']));
    for (const name of names) expect((await loadScenario(name)).name).toBe(name);
  });

  it('kill-node measures session loss over at least 2 x replicas reads and needs 2 replicas', async () => {
    const killNode = await loadScenario('kill-node');
    expect(killNode.measure.sessionLoss).toEqual({ before: 'before', after: 'after' });
    expect(scenarioConflict(killNode, counts, memory)).toBeUndefined();
    expect(scenarioConflict(killNode, { ...counts, replicas: 1 }, memory)).toBe('kill-node needs at least 2 replicas (this run has 1)');
  });

  it('names the valid scenarios when one is unknown', async () => {
    await expect(loadScenario('kill-everything')).rejects.toThrow(/unknown scenario "kill-everything"; expected one of .*kill-node.*login-read/);
    await expect(loadScenario('login-raed')).rejects.toThrow(/^unknown scenario "login-raed" \(did you mean login-read\?\); expected one of /);
  });
});

describe('scenario validation', () => {
  const valid = { name: 'x', description: 'd', phases: [{ name: 'login', do: 'login' }] };

  it('accepts a minimal scenario', () => {
    expect(parseScenario(valid, 'x.yaml').phases.map((phase) => phase.unit.kind)).toEqual(['login']);
  });

  it('names the file, the field and what was expected, for every problem', () => {
    const broken = {
      name: 'x',
      description: 'd',
      phases: [
        { name: 'login', do: 'logon' },
        { name: 'read', do: 'read', reads: 'readz' },
        { name: 'kill', do: 'kill-replica', replica: 0 },
      ],
    };
    let message = '';
    try {
      parseScenario(broken, 'my.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^my\.yaml: phases\[0\]\.do: unknown phase kind "logon" \(did you mean login\?\); expected one of login, read/);
    expect(lines[1]).toMatch(/^my\.yaml: phases\[1\]\.reads: unknown name "readz"/);
    expect(lines[2]).toMatch(/^my\.yaml: phases\[2\]\.replica: /);
  });

  it('rejects unknown top-level fields and missing ones', () => {
    expect(() => parseScenario({ ...valid, phase: [] }, 'a.yaml')).toThrow(/a\.yaml: \(top level\): Unrecognized key: "phase"/);
    expect(() => parseScenario({ name: 'x', phases: valid.phases }, 'b.yaml')).toThrow(/b\.yaml: description: /);
  });

  it('checks that session loss refers to read phases that exist', () => {
    const scenario = { ...valid, measure: { sessionLoss: { before: 'login', after: 'later' } } };
    expect(() => parseScenario(scenario, 'c.yaml')).toThrow(
      'c.yaml: measure.sessionLoss.before: phase "login" must be a read phase\nc.yaml: measure.sessionLoss.after: no phase named "later"',
    );
  });

  it('refuses session loss over fewer than 2 x replicas reads', () => {
    const scenario = parseScenario(
      {
        ...valid,
        phases: [
          { name: 'login', do: 'login' },
          { name: 'a', do: 'read', reads: 2 },
          { name: 'b', do: 'read', reads: 'replicas' },
        ],
        measure: { sessionLoss: { before: 'a', after: 'b' } },
      },
      'd.yaml',
    );
    expect(scenarioConflict(scenario, counts, memory)).toMatch(/phase "b" makes 3 reads per user; session loss needs at least 2 x replicas = 6/);
  });

  it('refuses a read phase that gives both reads and until', () => {
    expect(() => parseScenario({ ...valid, phases: [{ name: 'r', do: 'read', reads: 2, until: 'fault-detected' }] }, 'e.yaml')).toThrow(
      'give either reads or until, not both',
    );
  });
});

describe("waits on the balancer, held to the profile's detection bound", () => {
  const alb = { profile: 'alb' as const, healthCheck: ALB_HEALTH_CHECK };
  const fast = { profile: 'fast' as const, healthCheck: FAST_HEALTH_CHECK };
  const mine = (timeoutMs: number, until = 'fault-detected') => ({
    name: 'mine',
    description: 'd',
    phases: [
      { name: 'login', do: 'login' },
      { name: 'before', do: 'read', reads: 4 },
      { name: 'kill', do: 'kill-replica', replica: 1 },
      { name: 'failover', do: 'read', until, timeoutMs },
    ],
  });

  it('every built-in scenario loads under either profile, none bounding the detection itself', async () => {
    for (const name of await builtinScenarioNames()) {
      for (const timing of [fast, alb]) expect((await loadScenario(name, timing)).name).toBe(name);
    }
    const failover = (await loadScenario('kill-node', alb)).phases.find((phase) => phase.name === 'failover')!;
    expect(failover.balancerWait()).toEqual({ direction: 'unhealthy' });
  });

  it("refuses a user's timeout shorter than the profile's bound, in one line naming both", () => {
    expect(() => parseScenario(mine(15_000), 'my.yaml', alb)).toThrow(
      new UsageError("my.yaml: phases[3].timeoutMs: 15000 ms is shorter than the alb balancer profile's detection bound of 110000 ms; remove it or raise it"),
    );
    // The same file is fine at the fast profile's timing, and at ALB's once raised.
    expect(parseScenario(mine(15_000), 'my.yaml', fast).phases).toHaveLength(4);
    expect(parseScenario(mine(110_000), 'my.yaml', alb).phases).toHaveLength(4);
    expect(() => parseScenario(mine(10_000), 'my.yaml', fast)).toThrow("10000 ms is shorter than the fast balancer profile's detection bound of 10900 ms");
  });

  it('leaves alone waits that are not on the balancer, and files loaded without a balancer', () => {
    expect(parseScenario(mine(1_000, 'no-errors'), 'my.yaml', alb).phases).toHaveLength(4);
    expect(parseScenario(mine(1_000), 'my.yaml').phases).toHaveLength(4);
  });
});

describe('scenarios that break the store', () => {
  it.each(['kill-store', 'store-latency', 'store-outage'])('%s is skipped, saying why, for a strategy without a store', async (name) => {
    const scenario = await loadScenario(name);
    expect(scenarioConflict(scenario, counts, memory)).toMatch(new RegExp(`^${name} needs a session store \\(phase "\\w+"\\); strategy none keeps sessions in replica memory$`));
    expect(scenarioConflict(scenario, counts, redis)).toBeUndefined();
  });

  it('reads the app block and the expiry and hang measures', async () => {
    const expiry = await loadScenario('expiry');
    expect(expiry.app).toEqual({ sessionTtlSeconds: 4 });
    expect(expiry.measure.expiry).toEqual({ before: 'fresh', after: 'expired' });
    expect((await loadScenario('concurrent-writes-resave')).app).toEqual({ resave: true });
    expect((await loadScenario('store-outage')).measure.hangMs).toBe(1_000);
  });

  it('refuses an unknown toxic, an app setting it does not know, and an expiry measure on a non-read phase', () => {
    const base = { name: 'x', description: 'd' };
    expect(() => parseScenario({ ...base, phases: [{ name: 'f', do: 'store-fault', toxic: { type: 'bandwidth' }, durationMs: 10 }] }, 'f.yaml')).toThrow(
      /f\.yaml: phases\[0\]\.toxic.*latency, timeout, reset_peer, down/,
    );
    expect(() => parseScenario({ ...base, app: { rolling: true }, phases: [{ name: 'l', do: 'login' }] }, 'g.yaml')).toThrow(/g\.yaml: app: Unrecognized key: "rolling"/);
    expect(() =>
      parseScenario({ ...base, phases: [{ name: 'l', do: 'login' }, { name: 'w', do: 'wait', ms: 1 }], measure: { expiry: { before: 'l', after: 'w' } } }, 'h.yaml'),
    ).toThrow('h.yaml: measure.expiry.before: phase "l" must be a read phase');
  });
});

describe('cookie-swap', () => {
  it('needs two users, since a cookie is stolen from another user', async () => {
    const scenario = await loadScenario('cookie-swap');
    expect(scenarioConflict(scenario, { ...counts, users: 1 }, memory)).toBe('cookie-swap needs at least 2 users (this run has 1)');
    expect(scenarioConflict(scenario, { ...counts, users: 2 }, memory)).toBeUndefined();
  });
});

describe('scenarios against the app under test', () => {
  const profile = (data: Record<string, unknown> = {}) =>
    compileAppProfile({ name: 'shop', cookie: 'SESSION', login: { method: 'POST', path: '/login' }, read: { path: '/me', hit: { json: { '$.id': '{{userId}}' } } }, ...data }, 'shop.yaml');

  it('skips a scenario whose phases send a request the profile lacks', async () => {
    expect(appConflict(await loadScenario('concurrent-writes'), profile(), { custom: true, strategy: 'redis' })).toBe(
      'concurrent-writes sends the app\'s increment request (phase "increments"); the app profile "shop" has none',
    );
    expect(appConflict(await loadScenario('security'), profile({ logout: { method: 'POST', path: '/logout' } }), { custom: true, strategy: 'redis' })).toBeUndefined();
    expect(appConflict(await loadScenario('login-read'), profile(), { custom: true, strategy: 'redis' })).toBeUndefined();
  });

  it('runs a scenario of independent checks without a request one check needs: that check alone is n/a, with the reason', async () => {
    const security = await loadScenario('security');
    expect(appConflict(security, profile(), { custom: true, strategy: 'redis' })).toBeUndefined();
    const notApplicable = security.phases.flatMap((phase) => missingRequestFindings(phase.unit, profile()).map((finding) => ({ phase: phase.name, ...finding })));
    expect(notApplicable).toEqual([
      { phase: 'logout', id: 'logout-invalidates', title: 'logout ends the session on every replica', passed: null, summary: 'logout: the profile has no logout request', evidence: { missingRequest: 'logout' } },
    ]);
    // With the request, the check runs; a phase that is no check never yields n/a findings.
    expect(security.phases.flatMap((phase) => missingRequestFindings(phase.unit, profile({ logout: { method: 'POST', path: '/logout' } })))).toEqual([]);
    const writes = await loadScenario('concurrent-writes');
    expect(writes.phases.flatMap((phase) => missingRequestFindings(phase.unit, profile()))).toEqual([]);
  });

  it("skips scenarios that set the demo app's own settings for a user's app, not for the demo app", async () => {
    const resave = await loadScenario('concurrent-writes-resave');
    expect(appConflict(resave, demoProfile, { custom: true, strategy: 'redis' })).toBe("concurrent-writes-resave sets the demo app's resave; the app under test keeps its own session settings");
    expect(appConflict(resave, demoProfile, { custom: false, strategy: 'redis' })).toBeUndefined();
    expect(appConflict(await loadScenario('expiry'), demoProfile, { custom: true, strategy: 'redis' })).toMatch(/^expiry sets the demo app's sessionTtlSeconds/);
    // resave: false is the demo app's default: the scenario means the same against any app.
    expect(appConflict(await loadScenario('concurrent-writes'), demoProfile, { custom: true, strategy: 'redis' })).toBeUndefined();
    // security waits out the profile's idle timeout instead of setting the app's.
    expect(appConflict(await loadScenario('security'), demoProfile, { custom: true, strategy: 'redis' })).toBeUndefined();
  });

  it('skips strategies the profile does not list', async () => {
    const php = profile({ strategies: ['none', 'sticky', 'redis'] });
    expect(strategyConflict(php, 'postgres')).toBe('the app profile "shop" keeps sessions with none, sticky, redis only, not postgres');
    expect(strategyConflict(php, 'sticky')).toBeUndefined();
    expect(appConflict(await loadScenario('login-read'), php, { custom: true, strategy: 'mongo' })).toMatch(/only, not mongo$/);
  });
});
