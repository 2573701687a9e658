import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every file below `dir`, with its modification time; none if it does not exist. */
function filesOf(dir: string, keep: (file: string) => boolean): Array<{ file: string; mtimeMs: number }> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter(keep)
    .map((file) => ({ file, mtimeMs: statSync(file).mtimeMs }));
}

/**
 * Why dist/ is not the build of src/ as it is now, or undefined when it is. The build empties
 * dist/ first, so its oldest file is when the build began: a source changed after that is not in it.
 */
export function staleness(root: string): string | undefined {
  const built = filesOf(path.join(root, 'dist'), () => true);
  if (built.length === 0) return 'dist/ is missing';
  const buildStarted = Math.min(...built.map((entry) => entry.mtimeMs));
  const sources = [
    ...filesOf(path.join(root, 'src'), (file) => !file.endsWith('.test.ts')),
    ...filesOf(path.join(root, 'scripts'), (file) => file.endsWith('bundle.mjs')),
    ...['tsconfig.json', 'package.json'].map((file) => ({ file: path.join(root, file), mtimeMs: statSync(path.join(root, file)).mtimeMs })),
  ];
  const newer = sources.filter((entry) => entry.mtimeMs > buildStarted).sort((a, b) => b.mtimeMs - a.mtimeMs);
  if (newer.length === 0) return undefined;
  return `${path.relative(root, newer[0]!.file)}${newer.length > 1 ? ` and ${newer.length - 1} other source file(s)` : ''} changed after dist/ was built`;
}

/**
 * Before any test: the end-to-end tests run the CLI and import modules from dist/, so a dist/
 * older than src/ would test the code as it was, not as it is. `npm test` builds first and
 * passes; `npx vitest run test/e2e/x.test.ts` after an edit stops here, in one line. A run
 * limited to src/ (unit tests, which import the sources) is let through. It does not rebuild:
 * the build empties dist/ first, under any other test run of this checkout still using it.
 */
export default function setup(project: TestProject): void {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
  const sources = path.join(ROOT, 'src');
  if (filters.length > 0 && filters.every((filter) => path.resolve(ROOT, filter).startsWith(sources))) return;
  const why = staleness(ROOT);
  if (why) throw new Error(`${why}: run npm run build first (npm test builds), or the tests would run the code as it was`);
}
