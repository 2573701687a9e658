/**
 * The subset of JSON path a hit predicate needs: `$.a.b`, `$.items[0].name`, `$['odd key']`.
 * No wildcards or filters: a predicate names one value.
 */
const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;

export function parseJsonPath(path: string): (string | number)[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: (string | number)[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (!match) return undefined;
    segments.push(match[2] !== undefined ? Number(match[2]) : (match[1] ?? match[3] ?? match[4])!);
    rest = rest.slice(match[0].length);
  }
  return segments;
}

export function validJsonPath(path: string): boolean {
  return parseJsonPath(path) !== undefined;
}

/** A reader of the value at `path`, or undefined when any step is missing; the path is parsed once (an invalid one reads the whole value, as no steps). */
export function compileJsonPath(path: string): (json: unknown) => unknown {
  const segments = parseJsonPath(path) ?? [];
  return (json) => {
    let value = json;
    for (const segment of segments) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string | number, unknown>)[segment];
    }
    return value;
  };
}
