import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
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
/** A run of the build script: a full build here takes some 10 s, finding the images current a second or two. */
const SCRIPT_LIMIT_MS = 60_000;
const RECORD = '.built-images.json';

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
const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** This checkout's fixture images, from the flags the test setup made: hash tag → image ID, and each one's usual name (its name label). */
async function currentImages(engine: Docker) {
  const tags = docker.imageFlags.filter((flag) => flag !== '--image').map((flag) => flag.slice(flag.indexOf('=') + 1));
  return Promise.all(
    tags.map(async (tag) => {
      const info = await engine.getImage(tag).inspect();
      return { tag, id: info.Id, name: info.Config.Labels?.[NAME_LABEL] ?? tag, hash: info.Config.Labels?.[HASH_LABEL] ?? '' };
    }),
  );
}

/** A second checkout: fixtures/docker copied (without this checkout's record of its builds) and node_modules linked. */
async function secondCheckout(): Promise<string> {
  const checkout = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hactl-fixture-checkout-')));
  await cp(path.join(ROOT, 'fixtures', 'docker'), path.join(checkout, 'fixtures', 'docker'), { recursive: true, filter: (source) => !path.basename(source).startsWith(RECORD) });
  await symlink(await realpath(path.join(ROOT, 'node_modules')), path.join(checkout, 'node_modules'));
  return checkout;
}

function runScript(checkout: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [path.join(checkout, 'fixtures', 'docker', 'build-images.mjs')], { timeout: SCRIPT_LIMIT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    ),
  );
}

/**
 * Every checkout on a machine shares one engine and the fixture images on it. Building them from a
 * second checkout must leave the first one's images, and images built on top of them, in place.
 */
describe.skipIf(!docker.available)('fixture images', () => {
  it('another checkout of the same sources finds this one\'s images current, keeps what was built on them and other checkouts\' builds, and removes only its own stale builds, saying why', async () => {
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { docker: engine } = await connectEngine(process.env);
    const current = await currentImages(engine);
    const { tag: nodeTag, name: node } = current.find(({ name }) => name.startsWith('hactl-fixture/node:'))!;
    const unique = `${process.pid}${Date.now().toString(16)}`;
    const made: string[] = [];
    const checkout = await secondCheckout();
    try {
      // As the demo app image is: FROM a fixture, so it carries every label the fixture has.
      const onTop = await buildImage(engine, `FROM ${nodeTag}\nLABEL org.hactl.test=on-top\n`, `hactl-fixture-test/on-top:${unique}`);
      made.push(onTop);
      // The second checkout's own builds from other inputs (another version of the sources, say): one with an image on top, one without.
      const staleAlone = await staleBuild(engine, node, `stale${unique}a`);
      made.push(staleAlone);
      const staleBase = await staleBuild(engine, node, `stale${unique}b`);
      made.push(staleBase);
      const onStale = await buildImage(engine, `FROM ${hashTag(node, `stale${unique}b`)}\nLABEL org.hactl.test=on-stale\n`, `hactl-fixture-test/on-stale:${unique}`);
      made.unshift(onStale);
      // And a third checkout's build, which nothing uses either.
      const others = await staleBuild(engine, node, `other${unique}`);
      made.push(others);
      const builds = [
        { tag: hashTag(node, `stale${unique}a`), id: staleAlone },
        { tag: hashTag(node, `stale${unique}b`), id: staleBase },
      ];
      await writeFile(path.join(checkout, 'fixtures', 'docker', RECORD), JSON.stringify({ checkout, builds }));

      const { code, stdout, stderr } = await runScript(checkout);
      expect(code, stderr).toBe(0);
      for (const { tag, id } of current) expect(await exists(engine, id), `${tag} (${id}) is gone:\n${stderr}`).toBe(true);
      expect(await exists(engine, onTop), `the image built on ${nodeTag} is gone:\n${stderr}`).toBe(true);
      expect(stderr).toContain('fixture images are up to date');
      expect(await exists(engine, onStale), stderr).toBe(true);
      expect(await exists(engine, staleBase), stderr).toBe(true);
      expect(stderr).toMatch(new RegExp(`^keeping ${escape(hashTag(node, `stale${unique}b`))} \\(\\w{12}\\): stale .*, but the parent of hactl-fixture-test/on-stale:${unique}$`, 'm'));
      expect(await exists(engine, others), stderr).toBe(true);
      expect(stderr).toMatch(new RegExp(`^keeping ${escape(hashTag(node, `other${unique}`))} \\(${shortId(others)}\\): another checkout's build .*$`, 'm'));
      expect(await exists(engine, staleAlone), stderr).toBe(false);
      expect(stderr).toMatch(new RegExp(`^removing ${escape(hashTag(node, `stale${unique}a`))} \\(${shortId(staleAlone)}\\): built by this checkout for ${escape(node)} from other inputs .*$`, 'm'));
      // The second checkout found this one's images current but did not build them: they are not its to remove.
      const record = JSON.parse(await readFile(path.join(checkout, 'fixtures', 'docker', RECORD), 'utf8')) as { builds: Array<{ tag: string }> };
      expect(record.builds.map(({ tag }) => tag)).toEqual([hashTag(node, `stale${unique}b`)]);
      expect(stdout.trim()).toBe(docker.imageFlags.join(' '));
    } finally {
      for (const id of made) await engine.getImage(id).remove({ force: true }).catch(() => undefined);
      await rm(checkout, { recursive: true, force: true });
    }
  }, 120_000);

  it('another checkout with other sources builds its own images and leaves this one\'s, and what was built on them, in place; its rebuild after a change removes its superseded builds', async () => {
    const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
    const { docker: engine } = await connectEngine(process.env);
    const current = await currentImages(engine);
    const { tag: nodeTag } = current.find(({ name }) => name.startsWith('hactl-fixture/node:'))!;
    const unique = `${process.pid}${Date.now().toString(16)}`;
    const made: string[] = [];
    let theirs: Array<{ tag: string; id: string }> = [];
    const checkout = await secondCheckout();
    const entrypoint = path.join(checkout, 'fixtures', 'docker', 'postgres-entrypoint.mjs');
    const original = await readFile(entrypoint, 'utf8');
    try {
      const onTop = await buildImage(engine, `FROM ${nodeTag}\nLABEL org.hactl.test=on-top\n`, `hactl-fixture-test/on-top:${unique}`);
      made.push(onTop);

      // Another branch: one input changed, so another content hash.
      await writeFile(entrypoint, `${original}// changed in another checkout (${unique})\n`);
      const first = await runScript(checkout);
      expect(first.code, first.stderr).toBe(0);
      theirs = await Promise.all(
        first.stdout.trim().split(' ').filter((flag) => flag !== '--image').map(async (flag) => {
          const tag = flag.slice(flag.indexOf('=') + 1);
          return { tag, id: (await engine.getImage(tag).inspect()).Id };
        }),
      );
      for (const { tag, id } of current) expect(await exists(engine, id), `${tag} (${id}) is gone:\n${first.stderr}`).toBe(true);
      for (const { tag, id } of current) {
        expect((await engine.getImage(tag).inspect()).Id, `${tag} was moved:\n${first.stderr}`).toBe(id);
        expect(first.stderr).toMatch(new RegExp(`^keeping ${escape(tag)} \\(${shortId(id)}\\): another checkout's build .*$`, 'm'));
      }
      expect(await exists(engine, onTop), `the image built on ${nodeTag} is gone:\n${first.stderr}`).toBe(true);
      expect(theirs.map(({ tag }) => tag.replace(/-[0-9a-f]{16}$/, ''))).toEqual(current.map(({ tag }) => tag.replace(/-[0-9a-f]{16}$/, '')));
      expect(first.stderr).toMatch(/^built hactl-fixture\/node:20, /m);
      for (const { tag } of theirs) expect(current.map((image) => image.tag), tag).not.toContain(tag);

      // Something built on one of the second checkout's builds keeps that one.
      const redis = theirs.find(({ tag }) => tag.startsWith('hactl-fixture/redis:'))!;
      const onTheirs = await buildImage(engine, `FROM ${redis.tag}\nLABEL org.hactl.test=on-theirs\n`, `hactl-fixture-test/on-theirs:${unique}`);
      made.unshift(onTheirs);

      // The second checkout's sources change again (back to this checkout's): its own builds are superseded.
      await writeFile(entrypoint, original);
      const second = await runScript(checkout);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout.trim()).toBe(docker.imageFlags.join(' '));
      for (const { tag, id } of theirs) {
        if (tag === redis.tag) {
          expect(await exists(engine, id), second.stderr).toBe(true);
          expect(second.stderr).toMatch(new RegExp(`^keeping ${escape(tag)} \\(${shortId(id)}\\): stale .*, but the parent of hactl-fixture-test/on-theirs:${unique}$`, 'm'));
        } else {
          expect(await exists(engine, id), `${tag} is still there:\n${second.stderr}`).toBe(false);
          expect(second.stderr).toMatch(new RegExp(`^removing ${escape(tag)} \\(${shortId(id)}\\): built by this checkout .*, and nothing uses it$`, 'm'));
        }
      }
      for (const { tag, id } of current) expect(await exists(engine, id), `${tag} (${id}) is gone:\n${second.stderr}`).toBe(true);
      expect(await exists(engine, onTop), second.stderr).toBe(true);
    } finally {
      for (const id of made) await engine.getImage(id).remove({ force: true }).catch(() => undefined);
      // The second checkout's builds: the usual names back on this checkout's builds if a failure left them on those, then by their own tags.
      for (const { id, name } of current) {
        const byName = await engine.getImage(name).inspect().catch(() => undefined);
        if (byName && theirs.some((build) => build.id === byName.Id)) await engine.getImage(id).tag({ repo: name.slice(0, name.lastIndexOf(':')), tag: name.slice(name.lastIndexOf(':') + 1) }).catch(() => undefined);
      }
      for (const { tag } of theirs) await engine.getImage(tag).remove().catch(() => undefined);
      await rm(checkout, { recursive: true, force: true });
    }
  }, 120_000);
});
