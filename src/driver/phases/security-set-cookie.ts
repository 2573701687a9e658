/**
 * A Set-Cookie header as written, not as a browser would normalise it: the cookie-attributes
 * check asks whether the server *sent* HttpOnly, SameSite, Path, Domain, and a parser that fills
 * in defaults (tough-cookie's) would hide an omission.
 */
export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case; flags (HttpOnly, Secure) map to ''. */
  attributes: Map<string, string>;
}

export function parseSetCookie(header: string): SetCookie | undefined {
  const [pair = '', ...rest] = header.split(';');
  const equals = pair.indexOf('=');
  if (equals <= 0) return undefined;
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    const key = (at < 0 ? trimmed : trimmed.slice(0, at)).trim().toLowerCase();
    attributes.set(key, at < 0 ? '' : trimmed.slice(at + 1).trim());
  }
  return { name: pair.slice(0, equals).trim(), value: pair.slice(equals + 1).trim(), attributes };
}

/** The header with the cookie's value elided: evidence may quote it without handing out a session. */
export function redactSetCookie(header: string): string {
  const semicolon = header.indexOf(';');
  const pair = semicolon < 0 ? header : header.slice(0, semicolon);
  const equals = pair.indexOf('=');
  return `${pair.slice(0, equals + 1)}…${semicolon < 0 ? '' : header.slice(semicolon)}`;
}
