/**
 * Every finding a phase can record, by id. Config files name them in expectations
 * (`finding.<id>: pass`), which are checked against this list when the config is read rather
 * than after the whole run; README's "Finding ids" says what each one checks. Phases record
 * findings typed with these ids, and findings.test.ts checks the phase sources against the list.
 */
export const FINDING_IDS = [
  'stolen-cookie',
  'forged-id-read',
  'forged-id-adopted',
  'session-fixation',
  'logout-invalidates',
  'cookie-httponly',
  'cookie-secure',
  'cookie-samesite',
  'cookie-path',
  'cookie-no-domain',
  'session-id-quality',
  'idle-timeout',
] as const;

export type FindingId = (typeof FINDING_IDS)[number];

/**
 * Findings that are facts on every strategy, recorded with passed: null (a stolen cookie works:
 * a session id is a bearer token), so no expectation on them can ever hold.
 */
const FACTS: ReadonlySet<FindingId> = new Set(['stolen-cookie']);

export function isFindingId(id: string): id is FindingId {
  return (FINDING_IDS as readonly string[]).includes(id);
}

export function isFact(id: FindingId): boolean {
  return FACTS.has(id);
}
