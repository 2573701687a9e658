import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { EnvironmentError, errorMessage } from '../../errors.js';
import { RUN_LABEL } from './engine.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKERFILE = 'compose/Dockerfile';
const BUNDLES = ['dist/bundle/demo-app.mjs', 'dist/bundle/balancer.mjs'];

/** An image that is neither present nor pullable. */
export class ImageUnavailableError extends EnvironmentError {
  constructor(
    readonly image: string,
    readonly key: string,
    cause: string,
  ) {
    super(`image ${image} is not on the engine and could not be pulled (${cause})`);
  }

  get fix(): string {
    return `pull or build it on the engine yourself, or name another image with --image ${this.key}=IMAGE`;
  }
}

/** Makes sure `image` is on the engine, pulling it with progress if not. */
export async function ensureImage(docker: Docker, image: string, key: string, progress: (line: string) => void): Promise<void> {
  if (await docker.getImage(image).inspect().then(() => true, () => false)) return;
  progress(`pulling ${image}...`);
  try {
    const stream = await docker.pull(image);
    let last = 0;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: { status?: string; id?: string; progress?: string; error?: string }) => {
          if (event.error) return reject(new Error(event.error));
          // A line a second at most: readable in a terminal and in CI logs.
          if (Date.now() - last < 1_000) return;
          last = Date.now();
          progress(`pulling ${image}: ${[event.id, event.status, event.progress].filter(Boolean).join(' ')}`);
        },
      );
    });
  } catch (error) {
    throw new ImageUnavailableError(image, key, errorMessage(error).split('\n')[0]!);
  }
  progress(`pulled ${image}`);
}

/**
 * The demo app image: the Node base image plus the bundles, built from compose/Dockerfile and
 * tagged by a hash of everything that goes into it, so an unchanged build is reused.
 */
export async function demoAppImage(docker: Docker, nodeImage: string, progress: (line: string) => void): Promise<string> {
  await ensureImage(docker, nodeImage, 'node', progress);
  const base = (await docker.getImage(nodeImage).inspect()).Id;
  const hash = createHash('sha256').update(base);
  for (const file of [DOCKERFILE, ...BUNDLES]) {
    const content = await readFile(PACKAGE_ROOT + file).catch(() => {
      throw new EnvironmentError(`${file} is missing from the hactl package; run npm run build in ${PACKAGE_ROOT}`);
    });
    hash.update(file).update(content);
  }
  const tag = `hactl/demo-app:${hash.digest('hex').slice(0, 12)}`;
  if (await docker.getImage(tag).inspect().then(() => true, () => false)) return tag;

  progress(`building ${tag} from ${nodeImage}...`);
  const stream = await docker.buildImage(
    { context: PACKAGE_ROOT, src: [DOCKERFILE, ...BUNDLES] },
    { t: tag, dockerfile: DOCKERFILE, buildargs: { NODE_IMAGE: nodeImage }, labels: { [`${RUN_LABEL}.image`]: 'demo-app' }, rm: true, forcerm: true },
  );
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (event: { error?: string }) => event.error && reject(new Error(event.error)),
    );
  }).catch((error: unknown) => {
    throw new EnvironmentError(`could not build the demo app image ${tag} from ${nodeImage}: ${errorMessage(error).trim()}`);
  });
  progress(`built ${tag}`);
  return tag;
}
