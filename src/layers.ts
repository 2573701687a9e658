/**
 * The layers of DESIGN.md's architecture (README: Architecture), top to bottom: an import may only point down or within its own layer
 * (types included), so that a lower layer can be read, tested and reused without the ones above
 * it. `src/layers.test.ts` holds the import graph of src/ to this.
 */
export const LAYERS: ReadonlyArray<{ name: string; modules: readonly string[] }> = [
  { name: 'cli/commands', modules: ['cli.ts', 'commands/', 'closed-pipe.ts', 'interrupts.ts'] },
  { name: 'run', modules: ['run.ts', 'preflight.ts'] },
  { name: 'config', modules: ['config/'] },
  { name: 'expectations', modules: ['expectations/'] },
  { name: 'report', modules: ['report/'] },
  { name: 'metrics', modules: ['metrics/'] },
  { name: 'driver', modules: ['driver/'] },
  { name: 'runtime', modules: ['runtime/'] },
  { name: 'topology', modules: ['topology/'] },
  { name: 'balancer', modules: ['balancer/'] },
  // The demo app sits with the stores: a store module names the session store the app opens.
  { name: 'strategies/stores', modules: ['strategies.ts', 'strategies/', 'stores/', 'app/'] },
  { name: 'faults', modules: ['faults/'] },
  { name: 'platform', modules: ['platform/', 'layers.ts'] },
];

/** The layer's index (0 is the top), or undefined for a module no layer names. */
export function layerOf(module: string): number | undefined {
  const index = LAYERS.findIndex((layer) => layer.modules.some((prefix) => (prefix.endsWith('/') ? module.startsWith(prefix) : module === prefix)));
  return index < 0 ? undefined : index;
}

/** Relative specifiers a module imports: static, type-only, re-exports and dynamic `import()`. */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gms)) found.push(match[1]!);
  for (const match of text.matchAll(/\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

/** One line per edge that points up, naming both ends and their layers. */
export function violations(edges: ReadonlyArray<{ from: string; to: string }>): string[] {
  return edges.flatMap(({ from, to }) => {
    const source = layerOf(from);
    const target = layerOf(to);
    if (source === undefined || target === undefined || target >= source) return [];
    return [`${from} (${LAYERS[source]!.name}) imports ${to} (${LAYERS[target]!.name})`];
  });
}
