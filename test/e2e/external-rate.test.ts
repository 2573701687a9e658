import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers200 } from '../../src/runtime/http-probe.js';
import { freePorts } from '../../src/platform/ports.js';
import { pollUntil } from '../../src/platform/time.js';
import type { Report } from '../../src/report/model.js';
import { runHactl } from './helpers.js';
import { row } from './oracle.js';

/**
 * The deployment's own account of what reached it: every request, health probes included, one
 * line each ("arrival-ms method path"), written by the app as it arrives. Sessions live in the
 * process (one replica answers for the deployment; the kill command is the platform's no-op).
 */
const APP = `
const http = require('node:http');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const sessions = new Map();
let next = 0;
http.createServer((req, res) => {
  fs.appendFileSync(process.env.APP_LOG, (performance.timeOrigin + performance.now()).toFixed(3) + ' ' + req.method + ' ' + req.url.split('?')[0] + '\\n');
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const sid = /SID=([^;]+)/.exec(req.headers.cookie || '')?.[1];
    if (req.url === '/healthz') return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (req.method === 'POST' && req.url === '/login') {
      const id = 's' + ++next;
      sessions.set(id, JSON.parse(body || '{}').user);
      return res.writeHead(200, { 'set-cookie': 'SID=' + id + '; Path=/; HttpOnly', 'content-type': 'application/json' }).end('{}');
    }
    if (req.method === 'POST' && req.url === '/logout') {
      sessions.delete(sid);
      return res.writeHead(204).end();
    }
    if (req.url === '/me' && sessions.has(sid)) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: sessions.get(sid) }));
    res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const PROFILE = [
  'name: tally',
  'cookie: SID',
  'health: /healthz',
  "login: { method: POST, path: /login, json: { user: '{{userId}}' } }",
  "read: { method: GET, path: /me, hit: { status: 200, json: { '$.id': '{{userId}}' } } }",
  'logout: { method: POST, path: /logout }',
].join('\n') + '\n';

/** The most requests any closed one-second window holds, and where it starts. */
function busiestSecond(times: readonly number[]): { count: number; from: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let most = { count: 0, from: 0 };
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while (sorted[to]! - sorted[from]! > 1_000) from++;
    if (to - from + 1 > most.count) most = { count: to - from + 1, from: sorted[from]! };
  }
  return most;
}

describe('--rate on --runtime external counts everything hactl sends the deployment', () => {
  let dir: string;
  let target: string;
  let app: ChildProcess;
  const log = () => path.join(dir, 'requests.log');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-external-rate-'));
    const [port] = await freePorts(1);
    await writeFile(path.join(dir, 'app.cjs'), APP);
    await writeFile(path.join(dir, 'tally.yaml'), PROFILE);
    app = spawn(process.execPath, [path.join(dir, 'app.cjs')], { stdio: 'ignore', env: { ...process.env, PORT: String(port), APP_LOG: log() } });
    target = `http://127.0.0.1:${port}`;
    await pollUntil(async () => ((await answers200(`${target}/healthz`)) ? true : undefined), { timeoutMs: 10_000, intervalMs: 100, onTimeout: () => new Error(`the app at ${target} did not come up`) });
  });

  afterAll(async () => {
    app?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('kill-node with --rate 20: no second at the app holds more than 20 requests, health probes of the target included', async () => {
    await writeFile(log(), '');
    const out = path.join(dir, 'report.json');
    const { code, stderr } = await runHactl(
      [
        'run', '--runtime', 'external', '--target', target, '--replicas', '2', '--users', '10', '--seed', '3',
        '--strategy', 'redis', '--app-profile', path.join(dir, 'tally.yaml'), '--scenario', 'kill-node',
        '--kill-replica-cmd', 'true', '--verify-cmd', 'true', '--start-replica-cmd', 'true',
        '--rate', '20', '--quiet', '--format', 'json', '--out', out,
      ],
      {},
      170_000,
    );
    expect([0, 3], stderr).toContain(code);
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    expect(row(report, 'redis', 'kill-node').status, stderr).toBe('ok');
    const requests = (await readFile(log(), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [at, method, url] = line.split(' ');
        return { at: Number(at), what: `${method} ${url}` };
      });
    const probes = requests.filter((request) => request.what === 'GET /healthz');
    // The start check (pre-flight and scenario), the check before the fault, and the health streak after the start command.
    expect(probes.length).toBeGreaterThanOrEqual(2 * 2 + 2);
    const busiest = busiestSecond(requests.map((request) => request.at));
    const inBusiest = requests.filter((request) => request.at >= busiest.from && request.at <= busiest.from + 1_000);
    const counts = new Map<string, number>();
    for (const request of inBusiest) counts.set(request.what, (counts.get(request.what) ?? 0) + 1);
    const tally = [...counts].map(([what, count]) => `${what} ${count}`).join(', ');
    expect(busiest.count, tally).toBeLessThanOrEqual(20);
    // The limit binds: users' reads alone fill the budget, so probes outside it would break it.
    expect(busiest.count).toBeGreaterThanOrEqual(18);
  }, 170_000);
});
