import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, layerOf, LAYERS, violations } from './layers.js';

const SRC = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function graph(): Array<{ from: string; to: string }> {
  return sources(SRC).flatMap((file) =>
    importsOf(readFileSync(file, 'utf8')).map((specifier) => ({
      from: relative(SRC, file),
      to: relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts'),
    })),
  );
}

describe('the import graph', () => {
  it('places every module of src/ in a layer', () => {
    const unplaced = sources(SRC)
      .map((file) => relative(SRC, file))
      .filter((file) => layerOf(file) === undefined);
    expect(unplaced, `modules in no layer of ${LAYERS.map((layer) => layer.name).join(' → ')}`).toEqual([]);
  });

  it('has no edge from a lower layer to a higher one (DESIGN.md, Architecture)', () => {
    expect(violations(graph())).toEqual([]);
  });
});

describe('violations', () => {
  it('catches an import that points up, and lets one that points down or sideways through', () => {
    const found = violations([
      { from: 'stores/redis.ts', to: 'runtime/processes.ts' },
      { from: 'runtime/local.ts', to: 'stores/redis.ts' },
      { from: 'driver/driver.ts', to: 'driver/order.ts' },
    ]);
    expect(found).toEqual(['stores/redis.ts (strategies/stores) imports runtime/processes.ts (runtime)']);
  });

  it('reads static, type-only, re-export and dynamic imports, and ignores packages', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "const e = await import('./e.js');",
      "import { z } from 'zod';",
      "import {\n  f,\n  g,\n} from './fg.js';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../b/b.js', './c.js', './d.js', './fg.js', './e.js']);
  });
});
