import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // End-to-end tests start real servers and measure them; running them one file at a time keeps
    // them from competing for the machine's two cores and from distorting each other's figures.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    // In order: a dist/ older than src/ stops the run before docker-setup and the e2e tests use it.
    globalSetup: ['test/fresh-dist.ts', 'test/e2e/docker-setup.ts'],
  },
});
