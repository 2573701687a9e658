import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { EnvironmentError, errorMessage } from '../../platform/errors.js';
import { RUN_LABEL } from '../../topology/containers.js';
import { engineCall } from './engine.js';

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKERFILE = 'compose/Dockerfile';
const BUNDLES = ['dist/bundle/demo-app.mjs', 'dist/bundle/balancer.mjs', 'dist/bundle/fault-proxy.mjs'];
const PULL_TIMEOUT_MS = 15 * 60_000;
const BUILD_TIMEOUT_MS = 5 * 60_000;

/** An image that is neither on the engine nor pullable. */
export class ImageUnavailableError extends EnvironmentError {
  readonly fix: string;

  constructor(
    readonly image: string,
    readonly key: string,
    /** The engine's reason, on one line. */
    readonly why: string,
  ) {
    super(`image ${image} is not on the engine and could not be pulled (${why})`);
    this.fix = `pull or build it on the engine yourself, or name another image with --image ${key}=IMAGE`;
  }
}

export interface ImageOptions {
  progress: (line: string) => void;
  signal?: AbortSignal;
}

async function present(docker: Docker, image: string, signal?: AbortSignal): Promise<boolean> {
  return engineCall(`inspect image ${image}`, docker.getImage(image).inspect(), { signal }).then(
    () => true,
    (error: unknown) => {
      if (signal?.aborted) throw error;
      return false;
    },
  );
}

/** Follows a pull or build stream to its end; an `error` item in it fails the whole operation. */
function follow(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: { status?: string; id?: string; progress?: string }) => void = () => {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (event: { error?: string; status?: string; id?: string; progress?: string }) => (event.error ? reject(new Error(event.error)) : onEvent(event)),
    );
  });
}

/** Makes sure `image` is on the engine, pulling it with progress if not. */
export async function ensureImage(docker: Docker, image: string, key: string, options: ImageOptions): Promise<void> {
  if (await present(docker, image, options.signal)) return;
  options.progress(`pulling ${image}...`);
  let last = 0;
  try {
    await engineCall(
      `pull ${image}`,
      (async () => {
        const stream = await docker.pull(image);
        await follow(docker, stream, (event) => {
          // A line a second at most: readable in a terminal and in CI logs.
          if (Date.now() - last < 1_000) return;
          last = Date.now();
          options.progress(`pulling ${image}: ${[event.id, event.status, event.progress].filter(Boolean).join(' ')}`);
        });
      })(),
      { timeoutMs: PULL_TIMEOUT_MS, signal: options.signal },
    );
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const message = errorMessage(error);
    const prefix = `pull ${image}: `;
    throw new ImageUnavailableError(image, key, (message.startsWith(prefix) ? message.slice(prefix.length) : message).split('\n')[0]!.trim());
  }
  options.progress(`pulled ${image}`);
}

/**
 * The demo app image: the Node base image plus the bundles, built from compose/Dockerfile and
 * tagged by a hash of everything that goes into it, so an unchanged build is reused.
 */
export async function demoAppImage(docker: Docker, nodeImage: string, options: ImageOptions): Promise<string> {
  try {
    await ensureImage(docker, nodeImage, 'node', options);
  } catch (error) {
    // Without its base image no replica can run: say how to provide one, and end the run.
    if (error instanceof ImageUnavailableError) throw new EnvironmentError(`the demo app's base ${error.message}; ${error.fix}`);
    throw error;
  }
  const base = (await engineCall(`inspect image ${nodeImage}`, docker.getImage(nodeImage).inspect(), { signal: options.signal })).Id;
  const hash = createHash('sha256').update(base);
  for (const file of [DOCKERFILE, ...BUNDLES]) {
    const content = await readFile(PACKAGE_ROOT + file).catch(() => {
      throw new EnvironmentError(`${file} is missing from the hactl package; run npm run build in ${PACKAGE_ROOT}`);
    });
    hash.update(file).update(content);
  }
  const tag = `hactl/demo-app:${hash.digest('hex').slice(0, 12)}`;
  if (await present(docker, tag, options.signal)) return tag;

  options.progress(`building ${tag} from ${nodeImage}...`);
  await engineCall(
    `build ${tag} from ${nodeImage}`,
    (async () => {
      const stream = await docker.buildImage(
        { context: PACKAGE_ROOT, src: [DOCKERFILE, ...BUNDLES] },
        { t: tag, dockerfile: DOCKERFILE, buildargs: { NODE_IMAGE: nodeImage }, labels: { [`${RUN_LABEL}.image`]: 'demo-app' }, rm: true, forcerm: true },
      );
      await follow(docker, stream);
    })(),
    { timeoutMs: BUILD_TIMEOUT_MS, signal: options.signal },
  );
  options.progress(`built ${tag}`);
  return tag;
}
