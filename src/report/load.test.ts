import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReport, readAsToday, reportProblems } from './load.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './model.js';

/** A real run's report, saved before rows had warnings or failed logins. */
const load = (): Report => JSON.parse(readFileSync(new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url), 'utf8')) as Report;

describe('the report schema', () => {
  it('reads reports written before warnings and failed logins existed', async () => {
    expect(await reportProblems(load())).toEqual([]);
  });

  it('takes row warnings and the failed logins of a row', async () => {
    const report = load();
    const row = report.results.find((candidate) => candidate.metrics)!;
    row.metrics = { ...row.metrics!, logins: 30, failedLogins: 3 };
    row.warnings = [{ id: 'failed-logins', message: '3/30 logins failed (first: answered 403)' }, { id: 'fail-open', message: 'm', invalid: true }];
    expect(await reportProblems(report)).toEqual([]);
  });

  it('refuses a warning without a message, or a failed-login count that is no count', async () => {
    const report = load();
    const row = report.results.find((candidate) => candidate.metrics)!;
    row.metrics = { ...row.metrics!, logins: 30, failedLogins: -1 };
    row.warnings = [{ id: 'failed-logins' } as never];
    const problems = await reportProblems(report);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/\/warnings\/0: must have required property 'message'/), expect.stringMatching(/\/metrics\/failedLogins: must be >= 0/)]));
  });
});

describe('external reports', () => {
  /** The fixture as --runtime external writes it now. */
  const external = (): Report => {
    const report = load();
    report.settings = { ...report.settings, runtime: 'external', app: { profile: 'demo', profileSource: 'built-in demo profile', target: 'http://127.0.0.1:18080' }, balancer: { kind: 'external', target: 'http://127.0.0.1:18080', probePath: '/healthz' } };
    return report;
  };
  /** The same as reports written before issue 14 carried it: a cluster balancer's settings under kind external. */
  const old = (): Report => {
    const report = external();
    report.settings.balancer = { ...load().settings.balancer, kind: 'external' } as unknown as Report['settings']['balancer'];
    return report;
  };

  it('takes the external balancer as target and probe path, with no profile, health check or stickiness', async () => {
    expect(await reportProblems(external())).toEqual([]);
    const missing = external();
    missing.settings.balancer = { kind: 'external', target: 'http://127.0.0.1:18080' } as never;
    expect(await reportProblems(missing)).toEqual(expect.arrayContaining([expect.stringMatching(/\/settings\/balancer: must have required property 'probePath'/)]));
  });

  it("still refuses a cluster balancer without its settings", async () => {
    const report = load();
    report.settings.balancer = { kind: 'hactl', target: 'x', probePath: '/' } as never;
    expect(await reportProblems(report)).toEqual(expect.arrayContaining([expect.stringMatching(/\/settings\/balancer: must have required property 'profile'/)]));
  });

  it('loads an external report written before, stating only what was true of it: the target and the path probed', async () => {
    expect(await reportProblems(old())).toEqual([]);
    expect(readAsToday(old()).settings.balancer).toEqual({ kind: 'external', target: 'http://127.0.0.1:18080', probePath: '/health' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hactl-load-'));
    try {
      const file = path.join(dir, 'old.json');
      writeFileSync(file, JSON.stringify(old()));
      expect((await loadReport(file)).settings.balancer).toEqual({ kind: 'external', target: 'http://127.0.0.1:18080', probePath: '/health' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes a fault's commands, effect and observation, and the new warning ids; refuses a command run without its exit", async () => {
    const report = external();
    const row = report.results.find((candidate) => candidate.metrics && candidate.metrics.faults.length > 0)!;
    const command = { flag: '--kill-replica-cmd', command: 'kill -s KILL 4242', startAt: 800, endAt: 3810, exit: 'exit 0', output: '' };
    row.metrics!.faults = [{ kind: 'kill-replica', target: 'replica-1', at: 812, commands: [command], effect: 'replica-gone', observed: true, observation: 'replica-1 stopped appearing in answers 12 ms after the command started' }];
    row.warnings = [
      { id: 'fault-not-observed', message: 'm', invalid: true },
      { id: 'not-restored', message: 'm' },
      { id: 'replicas-seen', message: 'm' },
    ];
    expect(await reportProblems(report)).toEqual([]);
    const { exit: _exit, ...withoutExit } = command;
    row.metrics!.faults = [{ kind: 'kill-replica', target: 'replica-1', at: 812, commands: [withoutExit as never], effect: 'guessed' as never }];
    expect(await reportProblems(report)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/faults\/0\/commands\/0: must have required property 'exit'/), expect.stringMatching(/\/faults\/0\/effect: must be equal to one of the allowed values/)]),
    );
  });
});


describe('reports written before rows stated their strategy and variant', () => {
  /** The fixture as hactl wrote it before settings.strategyVariants, with a variant row added. */
  const old = (): Report => {
    const report = load();
    delete (report.settings as Partial<Report['settings']>).strategyVariants;
    report.settings.strategies = [...report.settings.strategies, 'redis:aof-always', 'memcached'];
    return report;
  };

  it('are valid, and read back with what each label stands for; a label no strategy explains is left out', async () => {
    expect(await reportProblems(old())).toEqual([]);
    expect(readAsToday(old()).settings.strategyVariants).toEqual([
      { label: 'none', strategy: 'none', variant: 'default' },
      { label: 'sticky', strategy: 'sticky', variant: 'lb_cookie' },
      { label: 'redis', strategy: 'redis', variant: 'none' },
      { label: 'redis:aof-always', strategy: 'redis', variant: 'aof-always' },
    ]);
  });

  it('render as a report written today does', () => {
    const today = load();
    const before = load();
    delete (before.settings as Partial<Report['settings']>).strategyVariants;
    expect(renderMarkdown(readAsToday(before))).toBe(renderMarkdown(today));
  });

  it('refuses a strategy variant without its label', async () => {
    const report = load();
    report.settings.strategyVariants = [{ strategy: 'redis', variant: 'none' } as never];
    expect(await reportProblems(report)).toEqual([expect.stringMatching(/\/settings\/strategyVariants\/0: must have required property 'label'/)]);
  });
});
