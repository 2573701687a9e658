import type { TestProject } from 'vitest/node';

export interface DockerForTests {
  available: boolean;
  /** Why the Docker tests skip, when they do. */
  reason?: string;
  /** `--image` flags naming this checkout's fixture images by their hash tags (hactl-fixture/node:20-<hash>). */
  imageFlags: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    docker: DockerForTests;
  }
}

/**
 * Once per test run: finds a Docker engine and builds the fixture images the docker runtime's
 * tests use (there is no registry to pull from here). Without an engine the Docker tests skip and
 * say why, unless HACTL_REQUIRE_DOCKER=1 (as in CI), which makes a missing engine a failure.
 */
export default async function setup(project: TestProject): Promise<void> {
  const { connectEngine } = await import('../../dist/runtime/docker/engine.js');
  let docker: DockerForTests;
  try {
    await connectEngine(process.env);
    // @ts-expect-error: plain JavaScript test support, without type declarations
    const { buildFixtureImages, fixtureImageFlags } = (await import('../../fixtures/docker/build-images.mjs')) as {
      buildFixtureImages(options?: { log?: (line: string) => void }): Promise<Record<string, string>>;
      fixtureImageFlags(images: Record<string, string>): string[];
    };
    // This checkout's builds by their hash tags, not the usual names: those follow whichever
    // checkout on the machine ran the script last.
    const images = await buildFixtureImages({ log: (line) => console.log(`docker fixtures: ${line}`) });
    docker = { available: true, imageFlags: fixtureImageFlags(images) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.HACTL_REQUIRE_DOCKER === '1') throw new Error(`HACTL_REQUIRE_DOCKER=1 but the Docker tests cannot run: ${reason}`);
    console.warn(`docker e2e tests skipped: ${reason}`);
    docker = { available: false, reason, imageFlags: [] };
  }
  project.provide('docker', docker);
}
