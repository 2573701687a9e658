/**
 * How guessable a server's session ids are, judged from a sample of them (OWASP ASVS asks for at
 * least 64 bits of entropy). Pure: the security scenario collects the ids, this only counts.
 *
 * The estimate sums each character position's empirical Shannon entropy. It sees what a sample
 * can show (constant prefixes, a counter's frozen high digits, a narrow alphabet), but it treats
 * positions as independent, so an id derived from something predictable (a hash of a timestamp)
 * can still score high: it is evidence against weak ids, not proof of strong ones.
 */

export interface Alphabet {
  /** `decimal`, `hex`, `base32hex`, `base32`, `alphanumeric`, `base64url`, `base64`, or `characters seen`. */
  name: string;
  size: number;
}

export interface IdQuality {
  count: number;
  unique: number;
  /** Ids that repeat one seen earlier in the sample. */
  duplicates: number;
  minLength: number;
  maxLength: number;
  alphabet: Alphabet;
  /** The characters that occurred, sorted. */
  characters: string;
  entropyBits: number;
  perPositionBits: number[];
}

const KNOWN_ALPHABETS: ReadonlyArray<{ name: string; characters: string }> = [
  { name: 'decimal', characters: '0123456789' },
  { name: 'hex', characters: '0123456789abcdef' },
  { name: 'hex', characters: '0123456789ABCDEF' },
  // PHP's ids at 5 bits per character (session.sid_bits_per_character = 5).
  { name: 'base32hex', characters: '0123456789abcdefghijklmnopqrstuv' },
  { name: 'base32hex', characters: '0123456789ABCDEFGHIJKLMNOPQRSTUV' },
  { name: 'base32', characters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567' },
  { name: 'base32', characters: 'abcdefghijklmnopqrstuvwxyz234567' },
  { name: 'alphanumeric', characters: '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' },
  { name: 'base64url', characters: '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_' },
  // Padding is not a symbol of its own: 64 values.
  { name: 'base64', characters: '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/=' },
];

/**
 * The smallest common alphabet that holds every character seen. Its size caps what one position
 * can carry: a sample cannot show more variety than the alphabet has.
 */
export function classifyAlphabet(seen: Iterable<string>): Alphabet {
  const characters = new Set(seen);
  for (const known of KNOWN_ALPHABETS) {
    if ([...characters].every((char) => known.characters.includes(char))) {
      return { name: known.name, size: known.name === 'base64' ? 64 : known.characters.length };
    }
  }
  return { name: 'characters seen', size: characters.size };
}

/**
 * One position's entropy in bits from symbol counts: the plug-in estimate, which is biased low
 * on small samples, plus Miller–Madow's correction (observed symbols − 1) / 2N nats, capped at
 * log2 of the alphabet size. A position that never changes carries 0 bits.
 */
export function positionEntropyBits(counts: Iterable<number>, alphabetSize: number): number {
  const observed = [...counts].filter((n) => n > 0);
  const total = observed.reduce((sum, n) => sum + n, 0);
  if (total === 0 || observed.length <= 1) return 0;
  let plugIn = 0;
  for (const n of observed) {
    const p = n / total;
    plugIn -= p * Math.log2(p);
  }
  const correction = (observed.length - 1) / (2 * total * Math.LN2);
  return Math.min(plugIn + correction, Math.log2(Math.max(alphabetSize, 1)));
}

export function idQuality(ids: readonly string[]): IdQuality {
  const unique = new Set(ids).size;
  const lengths = ids.map((id) => [...id].length);
  const maxLength = lengths.length === 0 ? 0 : Math.max(...lengths);
  const minLength = lengths.length === 0 ? 0 : Math.min(...lengths);
  const characters = new Set<string>();
  const positions: Array<Map<string, number>> = Array.from({ length: maxLength }, () => new Map());
  for (const id of ids) {
    [...id].forEach((char, index) => {
      characters.add(char);
      const column = positions[index]!;
      column.set(char, (column.get(char) ?? 0) + 1);
    });
  }
  const alphabet = classifyAlphabet(characters);
  const perPositionBits = positions.map((column) => positionEntropyBits(column.values(), alphabet.size));
  return {
    count: ids.length,
    unique,
    duplicates: ids.length - unique,
    minLength,
    maxLength,
    alphabet,
    characters: [...characters].sort().join(''),
    entropyBits: perPositionBits.reduce((sum, bits) => sum + bits, 0),
    perPositionBits,
  };
}
