import { execFile } from 'node:child_process';
import { cp, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { describe, expect, inject, it } from 'vitest';
// @ts-expect-error: plain JavaScript test support, without type declarations
import * as staleImages from '../../fixtures/docker/stale-images.mjs';

const { hashTag, NAME_LABEL, HASH_LABEL } = staleImages as { hashTag(name: string, hash: string): string; NAME_LABEL: string; HASH_LABEL: string };
const docker = inject('docker');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The build script must find the images current: a rebuild (a minute of imports) is the failure. */
const SCRIPT_LIMIT_MS = 60_000;

/** Runs the engine's build on `dockerfile` (context: that file alone) and returns the image's ID. */
async function buildImage(engine: Docker, dockerfile: string, tag: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-fixture-test-build-'));
  try {
    await writeFile(path.join(dir, 'Dockerfile'), dockerfile);
    const stream = await engine.buildImage({ context: dir, src: ['Dockerfile'] }, { t: tag, rm: true, forcerm: true });
    const output = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
      engine.modem.followProgress(stream, (error: Error | null, result: Array<{ error?: string }>) => (error ? reject(error) : resolve(result))),
    );
    const failed = output.find((line) => line.error);
    if (failed) throw new Error(`docker build ${tag}: ${failed.error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return (await engine.getImage(tag).inspect()).Id;
}

/** A tiny image made as build-images.mjs makes its own (an import, its tag, its labels), for inputs that are not the current ones. */
async function staleBuild(engine: Docker, name: string, hash: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hactl-fixture-test-rootfs-'));
  try {
    await writeFile(path.join(dir, 'hello'), `${hash}\n`);
    await new Promise<void>((resolve, reject) => execFile('tar', ['-C', dir, '-cf', `${dir}.tar`, 'hello'], (error) => (error ? reject(error) : resolve())));
    const tag = hashTag(name, hash);
    const colon = tag.lastIndexOf(':');
    const stream = await engine.importImage(`${dir}.tar`, { repo: tag.slice(0, colon), tag: tag.slice(colon + 1), changes: [`LABEL ${NAME_LABEL}=${name}`, `LABEL ${HASH_LABEL}=${hash}`] });
    await new Promise((resolve, reject) => engine.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve(undefined))));
    return (await engine.getImage(tag).inspect()).Id;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.tar`, { force: true });
  }
}

const exists = (engine: Docker, id: string) => engine.getImage(id).inspect().then(() => true, () => false);

/**
 * Every checkout on a machine shares one engine and the fixture images on it. Building them from a
 * second checkout must leave the first one's images, and images built on top of them, in place.
 */
describe.skipIf(!docker.available)('fixture images', () => {
  it('another checkout finds this one\'s images current, keeps what was built on them, and removes only its own stale builds, saying why', async () => {
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { docker: engine } = await connectEngine(process.env);
    const names = docker.imageFlags.filter((flag) => flag !== '--image').map((flag) => flag.slice(flag.indexOf('=') + 1));
    const node = names.find((name) => name.startsWith('hactl-fixture/node:'))!;
    const current = new Map(await Promise.all(names.map(async (name) => [name, (await engine.getImage(name).inspect()).Id] as const)));
    const unique = `${process.pid}${Date.now().toString(16)}`;
    const made: string[] = [];
    const checkout = await mkdtemp(path.join(os.tmpdir(), 'hactl-fixture-checkout-'));
    try {
      // As the demo app image is: FROM a fixture, so it carries every label the fixture has.
      const onTop = await buildImage(engine, `FROM ${node}\nLABEL org.hactl.test=on-top\n`, `hactl-fixture-test/on-top:${unique}`);
      made.push(onTop);
      // Builds from other inputs (another version of the sources, say): one with an image on top, one without.
      const staleAlone = await staleBuild(engine, node, `stale${unique}a`);
      made.push(staleAlone);
      const staleBase = await staleBuild(engine, node, `stale${unique}b`);
      made.push(staleBase);
      const onStale = await buildImage(engine, `FROM ${hashTag(node, `stale${unique}b`)}\nLABEL org.hactl.test=on-stale\n`, `hactl-fixture-test/on-stale:${unique}`);
      made.unshift(onStale);

      // The second checkout: the same sources somewhere else, written at another time.
      await cp(path.join(ROOT, 'fixtures', 'docker'), path.join(checkout, 'fixtures', 'docker'), { recursive: true });
      await symlink(await realpath(path.join(ROOT, 'node_modules')), path.join(checkout, 'node_modules'));
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
        execFile(process.execPath, [path.join(checkout, 'fixtures', 'docker', 'build-images.mjs')], { timeout: SCRIPT_LIMIT_MS, killSignal: 'SIGKILL' }, (error, _stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
        ),
      );
      expect(code, stderr).toBe(0);
      for (const [name, id] of current) expect(await exists(engine, id), `${name} (${id}) is gone:\n${stderr}`).toBe(true);
      expect(await exists(engine, onTop), `the image built on ${node} is gone:\n${stderr}`).toBe(true);
      expect(stderr).toContain('fixture images are up to date');
      expect(await exists(engine, onStale), stderr).toBe(true);
      expect(await exists(engine, staleBase), stderr).toBe(true);
      expect(stderr).toMatch(new RegExp(`^keeping ${hashTag(node, `stale${unique}b`)} \\(\\w{12}\\): stale .*, but the parent of hactl-fixture-test/on-stale:${unique}$`, 'm'));
      expect(await exists(engine, staleAlone), stderr).toBe(false);
      expect(stderr).toMatch(new RegExp(`^removing ${hashTag(node, `stale${unique}a`)} \\(\\w{12}\\): built by this script for ${node} from other inputs .*$`, 'm'));
    } finally {
      for (const id of made) await engine.getImage(id).remove({ force: true }).catch(() => undefined);
      await rm(checkout, { recursive: true, force: true });
    }
  }, 120_000);
});
