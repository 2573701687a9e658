import { classifyAlphabet } from '../metrics/id-quality.js';
import type { Rng } from './rng.js';

/** Runs of letters and digits this long are an id or a signature; shorter ones (`s:`, a version) stay. */
const RUN = /[A-Za-z0-9]{8,}/g;

type CharClass = 'digit' | 'lower' | 'upper';

/**
 * The characters the server's ids are made of, per class (digits, lowercase, uppercase letters),
 * gathered from the ids it issued. A forged id draws from these only: an app that accepts any
 * well-formed hex id accepts `e0b7…` but rejects `i7p4…`, so drawing letters from a–z would let
 * an app that adopts client-chosen ids pass the check.
 */
export interface IdCharacters {
  digit: string[];
  lower: string[];
  upper: string[];
}

export function idCharacters(values: readonly string[]): IdCharacters {
  const seen: Record<CharClass, Set<string>> = { digit: new Set(), lower: new Set(), upper: new Set() };
  for (const value of values) {
    for (const run of safeDecode(value).match(RUN) ?? []) for (const char of run) seen[classOf(char)].add(char);
  }
  return { digit: [...seen.digit].sort(), lower: [...seen.lower].sort(), upper: [...seen.upper].sort() };
}

/**
 * A session id the server never issued but shaped like those it did: every run of 8 or more
 * letters and digits in a real cookie value (the id, a signature) is replaced, character by
 * character, by a random character of the same class drawn from those the issued ids use;
 * prefixes and separators (`s:`, `.`) stay. So a server that validates only the shape is not told
 * apart from one that checks the id. Without `characters`, the template's own are used.
 */
export function forgeLike(value: string, rng: Rng, characters: IdCharacters = idCharacters([value])): string {
  const decoded = safeDecode(value);
  const forged = decoded.replace(RUN, (run) => [...run].map((char) => rng.pick(poolFor(char, characters))).join(''));
  return decoded === value ? forged : encodeURIComponent(forged);
}

/** The pool for a character's class; the character itself when its class was never seen. */
function poolFor(char: string, characters: IdCharacters): readonly string[] {
  const pool = characters[classOf(char)];
  return pool.length > 0 ? pool : [char];
}

function classOf(char: string): CharClass {
  return /\d/.test(char) ? 'digit' : /[a-z]/.test(char) ? 'lower' : 'upper';
}

/**
 * The shape of a set of cookie values, for a finding's evidence: `32 characters, hex, lowercase`,
 * or `78 characters of A-Za-z0-9 and .:` when no common alphabet holds them all. The alphabet is
 * the smallest common one that holds every character (as the id quality check names it).
 */
export function describeShape(values: readonly string[]): string {
  if (values.length === 0) return 'none';
  const decoded = values.map(safeDecode);
  const lengths = decoded.map((value) => [...value].length);
  const [min, max] = [Math.min(...lengths), Math.max(...lengths)];
  const chars = decoded.flatMap((value) => [...value]);
  const alphabet = classifyAlphabet(chars);
  const classes = ([['upper', 'A-Z'], ['lower', 'a-z'], ['digit', '0-9']] as const).filter(([name]) => chars.some((char) => /[A-Za-z0-9]/.test(char) && classOf(char) === name)).map(([, range]) => range);
  const others = [...new Set(chars.filter((char) => !/[A-Za-z0-9]/.test(char)))].sort().join('');
  const length = `${min === max ? min : `${min}-${max}`} characters`;
  if (alphabet.name === 'characters seen') return `${length} of ${classes.join('')}${others ? ` and ${others}` : ''}`;
  const letterCase = classes.includes('a-z') ? (classes.includes('A-Z') ? '' : ', lowercase') : classes.includes('A-Z') ? ', uppercase' : '';
  return `${length}, ${alphabet.name}${letterCase}`;
}

/**
 * Whether a forged value could pass for an issued one: it differs from its template, has the
 * length of an issued value, and holds no character the issued values do not. When
 * none could (an id with no run long enough to replace), a clean result proves nothing.
 */
export function fitsShape(forged: string, template: string, issued: readonly string[]): boolean {
  const decoded = safeDecode(forged);
  if (decoded === safeDecode(template)) return false;
  const issuedDecoded = issued.map(safeDecode);
  if (!issuedDecoded.some((value) => [...value].length === [...decoded].length)) return false;
  const allowed = new Set(issuedDecoded.flatMap((value) => [...value]));
  return [...decoded].every((char) => allowed.has(char));
}

/** A cookie value URI-decoded, or as it is when it is not valid URI encoding. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
