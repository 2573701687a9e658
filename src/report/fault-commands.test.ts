import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Fault } from '../driver/records.js';
import { commandText, faultLines, outputExcerpt, settingsLine } from './cells.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './model.js';
import { renderTable } from './table.js';

/** A real run's report, made into an external one by hand: the renderers only read what the contract says a report holds. */
const FIXTURE = new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url);

const killed: Fault = {
  kind: 'kill-replica',
  target: 'replica-1',
  at: 812,
  detectedAt: 1130,
  effect: 'replica-gone',
  observed: true,
  observation: 'replica-1 stopped appearing in answers 12 ms after the command started',
  commands: [
    { flag: '--kill-replica-cmd', command: 'kubectl delete pod shop-1 && sleep 3', startAt: 800, endAt: 3810, exit: 'exit 0', output: 'pod "shop-1" deleted\n' },
    { flag: '--start-replica-cmd', command: './ops/start shop-1', startAt: 4000, endAt: 4250, exit: 'exit 4', output: `${'x'.repeat(300)}\nno capacity <in> zone "b"` },
  ],
};
const echoed: Fault = {
  kind: 'kill-replica',
  target: 'replica-1',
  at: 700,
  effect: 'command-start',
  observed: false,
  observation: 'replica-1 kept answering: 740 answers after the command ended',
  commands: [{ flag: '--kill-replica-cmd', command: 'echo kill replica-1', startAt: 700, endAt: 705, exit: 'exit 0', output: '' }],
};

function externalReport(): Report {
  const report = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Report;
  report.settings = { ...report.settings, runtime: 'external', strategies: ['redis'], app: { profile: 'shop', profileSource: 'shop.yaml', target: 'https://shop.example.com' }, balancer: { kind: 'external', target: 'https://shop.example.com', probePath: '/healthz' } };
  report.results = report.results.filter((row) => row.strategy === 'redis' && (row.scenario === 'kill-node' || row.scenario === 'login-read'));
  const kill = report.results.find((row) => row.scenario === 'kill-node')!;
  kill.metrics = { ...kill.metrics!, faults: [killed] };
  const again = structuredClone(kill);
  again.scenario = 'kill-node-echo';
  again.metrics!.faults = [echoed];
  again.warnings = [{ id: 'fault-not-observed', message: 'the kill command ran but replica-1 kept answering', invalid: true }];
  report.results.push(again);
  return report;
}

const LINES = [
  "redis × kill-node: kill-replica replica-1: observed (timed from the replica's disappearance from answers): replica-1 stopped appearing in answers 12 ms after the command started",
  'redis × kill-node: kill-replica replica-1: --kill-replica-cmd exit 0 after 3.01 s (from 0.80 s): "pod \\"shop-1\\" deleted"',
  `redis × kill-node: kill-replica replica-1: --start-replica-cmd exit 4 after 0.25 s (from 4.00 s): "…${'x'.repeat(160 - ' | no capacity <in> zone "b"'.length)} | no capacity <in> zone \\"b\\""`,
  "redis × kill-node-echo: kill-replica replica-1: NOT observed (timed from the command's start): replica-1 kept answering: 740 answers after the command ended",
  'redis × kill-node-echo: kill-replica replica-1: --kill-replica-cmd exit 0 after 0.01 s (from 0.70 s): no output',
];

describe('fault commands in reports', () => {
  it('one line per observation and per command: flag, exit, how long, from when, the end of its output', () => {
    expect(faultLines(externalReport())).toEqual(LINES);
  });

  it('keeps the end of a long output, where the error usually is, on one line', () => {
    const excerpt = outputExcerpt(`${'a'.repeat(400)}\nfatal: last words`);
    expect(excerpt.startsWith('"…')).toBe(true);
    expect(excerpt.endsWith(' | fatal: last words"')).toBe(true);
    expect(excerpt.length).toBeLessThanOrEqual(160 + 3);
    expect(commandText({ flag: '--verify-cmd', command: 'true', startAt: 0, endAt: 1500, exit: 'timeout', output: ' \n ' })).toBe('--verify-cmd timeout after 1.50 s (from 0.00 s): no output');
  });

  it('says nothing for faults hactl did itself (no commands, no observation)', () => {
    const report = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Report;
    expect(report.results.some((row) => (row.metrics?.faults.length ?? 0) > 0)).toBe(true);
    expect(faultLines(report)).toEqual([]);
    expect(renderMarkdown(report)).not.toContain('### Faults');
    expect(renderHtml(report)).not.toContain('<ul class="notes fault-notes"');
  });

  it('table: the lines under the table', () => {
    const text = renderTable(externalReport(), { color: false });
    const under = text.slice(text.lastIndexOf('┘'));
    for (const line of LINES) expect(under).toContain(`\n${line}\n`);
  });

  it('markdown: a Faults section with the same lines', () => {
    const markdown = renderMarkdown(externalReport());
    expect(markdown).toContain(['### Faults', '', ...LINES.map((line) => `- ${line}`)].join('\n'));
  });

  it('html: under each timeline, its faults and commands, the full command line on hover, escaped', () => {
    const html = renderHtml(externalReport());
    const notes = [...html.matchAll(/<ul class="notes fault-notes" data-strategy="([^"]+)" data-scenario="([^"]+)">([\s\S]*?)<\/ul>/g)];
    expect(notes.map((m) => `${m[1]} × ${m[2]}`)).toEqual(['redis × kill-node', 'redis × kill-node-echo']);
    expect(notes[0]![3]).toContain('<li class="fault-command" title="kubectl delete pod shop-1 &amp;&amp; sleep 3">');
    expect(notes[0]![3]).toContain('no capacity &lt;in&gt; zone');
    expect(notes[1]![3]).toContain('<li class="fault-observation not-observed">redis × kill-node-echo: kill-replica replica-1: NOT observed');
    // The detection mark of an external deployment is the replica leaving the answers, not a balancer's health check.
    expect(html).toContain('the replica stopped appearing in answers');
    expect(html).not.toContain('balancer took the target out');
    expect(html).toContain('<title>replica-1 stopped appearing in answers at 1.13 s</title>');
    expect(html).not.toContain('taken out of rotation');
    expect(html).toContain('kill-replica replica-1 at 0.7 s (not observed to take effect)');
  });
});

describe('an external report', () => {
  it("states the deployment's balancer as its target and probe path, and no profile, health check, stickiness or delay", () => {
    const line = settingsLine(externalReport());
    expect(line).toContain("the deployment's own balancer at https://shop.example.com (probed at /healthz; its health checks, stickiness and timings are its own, unknown to hactl)");
    expect(line).not.toMatch(/fast|profile:|AWSALB|deregistration|health check every/);
  });
});
