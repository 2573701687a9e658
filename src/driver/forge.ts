import type { Rng } from './rng.js';

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A session id the server never issued but that looks like one it did: every run of 8 or more
 * letters and digits in a real cookie value (the id, a signature) is replaced by random
 * characters of the same classes; prefixes and separators (`s:`, `.`) stay. So a server that
 * validates only the shape is not told apart from one that checks the id.
 */
export function forgeLike(value: string, rng: Rng): string {
  const decoded = safeDecode(value);
  const forged = decoded.replace(/[A-Za-z0-9]{8,}/g, (run) =>
    [...run].map((char) => rng.pick([...(/\d/.test(char) ? DIGITS : /[a-z]/.test(char) ? LOWER : UPPER)])).join(''),
  );
  return decoded === value ? forged : encodeURIComponent(forged);
}

/** A cookie value URI-decoded, or as it is when it is not valid URI encoding. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
