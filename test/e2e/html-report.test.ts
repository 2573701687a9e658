import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import type { Report } from '../../src/report/model.js';

/**
 * The HTML report opened in a real headless Chromium: the charts must be drawn (elements with a
 * size, as many bars and marks as the report has figures, each fault marker where the x axis says
 * the fault happened), and the page must fetch nothing but itself.
 */
const CHROMIUM = process.env.HACTL_CHROMIUM ?? '/usr/bin/chromium';
const FIXTURE = new URL('../../fixtures/reports/local-none-sticky-redis.json', import.meta.url);
const TIMEOUT_MS = 30_000;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

let dir: string;
let report: Report;
let browser: Browser | undefined;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];
let fileUrl: string;

beforeAll(async () => {
  // A missing browser is a broken test machine, not a reason to skip the only check that the charts render.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (Debian), or set HACTL_CHROMIUM to its path`);
  report = JSON.parse(await readFile(FIXTURE, 'utf8')) as Report;
  dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-html-'));
  const file = path.join(dir, 'report.html');
  await writeFile(file, renderHtml(report));
  fileUrl = pathToFileURL(file).href;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: TIMEOUT_MS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('request', (request) => requests.push(request.url()));
  // A blocked load shows up here as a Content-Security-Policy violation, not as a request.
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(fileUrl, { timeout: TIMEOUT_MS, waitUntil: 'load' });
}, 90_000);

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    if (dir && process.env.HACTL_KEEP_HTML !== '1') await rm(dir, { recursive: true, force: true });
    else if (dir) console.log(`html report test: kept ${dir}`);
  }
});

async function box(selector: string): Promise<Box> {
  const found = await page.locator(selector).boundingBox();
  if (!found) throw new Error(`${selector} is not drawn`);
  return found;
}

/** The figure showing one strategy × scenario (or a whole scenario), found by its data attributes. */
function chart(kind: string, scenario: string, strategy?: string): string {
  return `figure[data-chart="${kind}"][data-scenario="${scenario}"]${strategy === undefined ? '' : `[data-strategy="${strategy}"]`}`;
}

const measured = () => report.results.filter((row) => row.status === 'ok' && row.metrics);

describe('HTML report in Chromium', () => {
  it('loads with nothing fetched but the file itself and no console errors', () => {
    expect(requests).toEqual([fileUrl]);
    expect(problems).toEqual([]);
  });

  it('draws one latency chart per scenario, one line per strategy with a marker per bucket', async () => {
    const scenarios = [...new Set(measured().filter((row) => row.metrics!.readLatencyDistribution).map((row) => row.scenario))];
    expect(scenarios.length).toBeGreaterThan(1);
    for (const scenario of scenarios) {
      const figure = chart('latency', scenario);
      expect((await box(`${figure} svg.chart-svg`)).height).toBeGreaterThan(150);
      const strategies = measured().filter((row) => row.scenario === scenario && row.metrics!.readLatencyDistribution).map((row) => row.strategy);
      const series = await page.locator(`${figure} g.series`).evaluateAll((groups) =>
        groups.map((g) => ({
          name: g.getAttribute('data-series'),
          points: (g.querySelector('polyline')?.getAttribute('points') ?? '').trim().split(/\s+/).length,
          markers: g.querySelectorAll('.marker').length,
          width: g.getBoundingClientRect().width,
        })),
      );
      expect(series.map((s) => s.name)).toEqual(strategies);
      for (const s of series) {
        expect(s.markers).toBe(s.points);
        expect(s.points).toBeGreaterThanOrEqual(3);
        expect(s.width).toBeGreaterThan(100);
      }
      expect(await page.locator(`${figure} .legend li`).count()).toBe(strategies.length);
    }
  });

  it('draws a bar per replica, heights in proportion to the requests each answered', async () => {
    for (const row of measured()) {
      const counts = Object.values(row.metrics!.requestsPerReplica);
      const bars = await page.locator(`${chart('replicas', row.scenario, row.strategy)} rect.bar`).evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().height));
      expect(bars).toHaveLength(counts.length);
      const tallest = Math.max(...bars);
      expect(tallest).toBeGreaterThan(40);
      counts.forEach((requests, i) => expect(Math.abs(bars[i]! - (tallest * requests) / Math.max(...counts)), `${row.strategy} × ${row.scenario} bar ${i}`).toBeLessThan(1.5));
    }
  });

  it('marks each fault on its timeline where the x axis puts its time, with its kind and target', async () => {
    const faulted = measured().filter((row) => row.metrics!.faults.length > 0);
    expect(faulted.length).toBeGreaterThan(0);
    for (const row of faulted) {
      const figure = chart('timeline', row.scenario, row.strategy);
      const svg = await box(`${figure} svg.chart-svg`);
      expect(svg.width).toBeGreaterThan(600);
      const toPixel = await xAxisScale(figure);
      const marks = await page.locator(`${figure} g.fault`).evaluateAll((groups) =>
        groups.map((g) => {
          const line = g.querySelector('.fault-marker')!.getBoundingClientRect();
          const label = g.querySelector('.fault-label')!;
          return { x: line.x + line.width / 2, height: line.height, label: label.textContent, labelWidth: label.getBoundingClientRect().width };
        }),
      );
      const faults = [...row.metrics!.faults].sort((a, b) => a.at - b.at);
      expect(marks).toHaveLength(faults.length);
      faults.forEach((fault, i) => {
        expect(Math.abs(marks[i]!.x - toPixel(fault.at / 1000)), `${fault.kind} at ${fault.at} ms`).toBeLessThan(1.5);
        expect(marks[i]!.label).toBe(`${fault.kind} ${fault.target}`);
        expect(marks[i]!.labelWidth).toBeGreaterThan(20);
        expect(marks[i]!.height).toBeGreaterThan(100);
      });
      const timeline = row.metrics!.timeline!;
      for (const outcome of ['hits', 'misses', 'errors'] as const) {
        expect(await page.locator(`${figure} rect.bar.${outcome}`).count()).toBe(timeline[outcome].filter((n) => n > 0).length);
      }
    }
  });

  it('shows the summary and the security findings as tables', async () => {
    expect(await page.locator('table.summary tbody tr').count()).toBe(report.results.length);
    const findings = report.results.flatMap((row) => row.findings ?? []);
    expect(findings.length).toBeGreaterThan(0);
    expect(await page.locator('table.findings tbody tr').count()).toBe(findings.length);
  });

  it('renders a full-page screenshot', async () => {
    const file = path.join(dir, 'report.png');
    await page.screenshot({ path: file, fullPage: true, timeout: TIMEOUT_MS });
    expect((await stat(file)).size).toBeGreaterThan(50_000);
  });
});

/** Seconds → page x, from where the axis's own tick labels are drawn: the chart's scale checked against what a reader sees. */
async function xAxisScale(figure: string): Promise<(seconds: number) => number> {
  const ticks = await page.locator(`${figure} g.tick.x`).evaluateAll((groups) =>
    groups.map((g) => {
      const line = g.querySelector('line')!.getBoundingClientRect();
      return { value: Number(g.querySelector('text')!.textContent), x: line.x + line.width / 2 };
    }),
  );
  expect(ticks.length).toBeGreaterThanOrEqual(3);
  const [first, last] = [ticks[0]!, ticks.at(-1)!];
  return (seconds) => first.x + ((seconds - first.value) * (last.x - first.x)) / (last.value - first.value);
}
