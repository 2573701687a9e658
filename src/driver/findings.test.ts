import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FINDING_IDS, isFact, isFindingId } from './findings.js';

const PHASES = new URL('./phases/', import.meta.url);

/** The ids the phase sources record: `id: 'x'` in a finding, or the `const ID = 'x'` a phase builds them with. */
function idsInPhaseSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(PHASES).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
    const source = readFileSync(new URL(file, PHASES), 'utf8');
    for (const match of source.matchAll(/\b(?:id: |const ID = )'([^']+)'/g)) found.set(match[1]!, file);
  }
  return found;
}

describe('finding ids', () => {
  it('lists every id a phase can record, and no id that none records', () => {
    const emitted = idsInPhaseSources();
    expect([...emitted.keys()].filter((id) => !isFindingId(id))).toEqual([]);
    expect([...FINDING_IDS].sort()).toEqual([...emitted.keys()].sort());
  });

  it('only stolen-cookie is a fact, with no pass or fail', () => {
    expect(FINDING_IDS.filter(isFact)).toEqual(['stolen-cookie']);
  });

  it("README's table lists every id", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(FINDING_IDS.filter((id) => !readme.includes(`| \`${id}\` |`))).toEqual([]);
  });
});
