import { classifyAlphabet } from './id-quality.js';
import type { Rng } from './rng.js';

/** Runs of letters and digits this long are an id or a signature; shorter ones (`s:`, a version) stay. */
const RUN = /[A-Za-z0-9]{8,}/g;

type CharClass = 'digit' | 'lower' | 'upper';

/**
 * What the server's ids are made of, learnt from ids it issued, position by position: positions
 * where every issued id of a length has the same character (a version prefix, a JWT's header) and
 * the characters, per class, the other positions use. A forged id keeps the first and draws from
 * the second only: an app that accepts any `v2` + hex id accepts `v2e0b7…` but rejects `c1e0…`,
 * and one that accepts any hex id rejects `i7p4…`; drawing letters from a–z, or replacing a fixed
 * prefix, would let an app that adopts client-chosen ids pass the check. One issued id cannot tell
 * a fixed position from a random one: every position of its runs then counts as random.
 */
export interface IdShape {
  /** Decoded issued values, by length. */
  byLength: Map<number, string[]>;
}

export function learnShape(values: readonly string[]): IdShape {
  const byLength = new Map<number, string[]>();
  // Distinct values only: the same token issued twice (a signed cookie stamped to the second)
  // would make every position look fixed, and the forged id the real one.
  for (const value of new Set(values.map(safeDecode))) {
    const length = [...value].length;
    byLength.set(length, [...(byLength.get(length) ?? []), value]);
  }
  return { byLength };
}

interface Positions {
  /** The character every issued id of this length has at a position, where they all agree. */
  fixed: (string | undefined)[];
  /** Characters per class at the positions that vary. */
  pools: Record<CharClass, string[]>;
  /** Every character at the positions that vary. */
  varying: Set<string>;
}

function positionsOf(shape: IdShape, template: string): Positions {
  const chars = [...template];
  const samples = (shape.byLength.get(chars.length) ?? [template]).map((value) => [...value]);
  const fixed = chars.map((_, i) => (samples.length >= 2 && samples.every((sample) => sample[i] === samples[0]![i]) ? samples[0]![i] : undefined));
  const pools: Record<CharClass, Set<string>> = { digit: new Set(), lower: new Set(), upper: new Set() };
  const varying = new Set<string>();
  for (const sample of samples) {
    sample.forEach((char, i) => {
      if (fixed[i] !== undefined || !/[A-Za-z0-9]/.test(char)) return;
      pools[classOf(char)].add(char);
      varying.add(char);
    });
  }
  return { fixed, pools: { digit: [...pools.digit].sort(), lower: [...pools.lower].sort(), upper: [...pools.upper].sort() }, varying };
}

/**
 * A session id the server never issued but shaped like those it did: in every run of 8 or more
 * letters and digits of a real cookie value (the id, a signature), each character at a position
 * that varies between issued ids is replaced by a random one of its class drawn from those the
 * issued ids use there; fixed positions, prefixes and separators (`s:`, `.`) stay. So a server
 * that validates only the shape is not told apart from one that checks the id. Without `shape`,
 * the template alone is the sample.
 */
export function forgeLike(value: string, rng: Rng, shape: IdShape = learnShape([value])): string {
  const decoded = safeDecode(value);
  const { fixed, pools } = positionsOf(shape, decoded);
  const chars = [...decoded];
  const inRun = new Array<boolean>(chars.length).fill(false);
  for (const match of decoded.matchAll(RUN)) {
    const start = [...decoded.slice(0, match.index)].length;
    for (let i = 0; i < [...match[0]].length; i++) inRun[start + i] = true;
  }
  const forged = chars
    .map((char, i) => {
      if (!inRun[i] || fixed[i] !== undefined) return char;
      const pool = pools[classOf(char)];
      return pool.length > 0 ? rng.pick(pool) : char;
    })
    .join('');
  return decoded === value ? forged : encodeURIComponent(forged);
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
 * length of an issued value, keeps every position the issued ids agree on, and elsewhere holds
 * only characters the issued ids use where they vary. When none could (an id with no run long
 * enough to replace), a clean result proves nothing.
 */
export function fitsShape(forged: string, template: string, shape: IdShape): boolean {
  const decoded = safeDecode(forged);
  if (decoded === safeDecode(template)) return false;
  const chars = [...decoded];
  if (!shape.byLength.has(chars.length)) return false;
  // An issued value is no forgery: reading with it proves nothing about forged ones.
  if (shape.byLength.get(chars.length)!.includes(decoded)) return false;
  const samples = shape.byLength.get(chars.length)!.map((value) => [...value]);
  const { fixed, varying } = positionsOf(shape, samples[0]!.join(''));
  return chars.every((char, i) => (fixed[i] !== undefined ? char === fixed[i] : varying.has(char) || samples.some((sample) => sample[i] === char)));
}

/** A cookie value URI-decoded, or as it is when it is not valid URI encoding. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
