import { REPLICA_HEADER } from '../balancer/index.js';
import { compileJsonPath } from '../platform/json-path.js';

/**
 * Where an answer names the replica that gave it, as an app profile's `replica:` key says:
 * exactly one of a response header, a JSON path into the body, or a cookie the answer sets;
 * with an optional regular expression whose group (or whole match) is the value, and an
 * optional map of values to the names the report shows.
 */
export interface ReplicaSource {
  header?: string;
  json?: string;
  cookie?: string;
  pattern?: string;
  names?: Readonly<Record<string, string>>;
}

/** One answer, as the driver has it. */
export interface Answer {
  status: number;
  /** Header fields in order, names in lower case. */
  headers: readonly (readonly [string, string])[];
  body: string;
  setCookies: readonly string[];
}

/**
 * How the driver learns which replica gave an answer; compiled once per profile, since it judges
 * every answer of a run. The driver makes one pass over an answer's headers for its cookies
 * anyway: it collects `header` (the last value and how many times it came) in that same pass and
 * hands them to `name`, so that no source costs a second pass, a closure or a regular expression
 * compile per request.
 */
export interface ReplicaIdentity {
  /** The header, in lower case, whose values `name` reads; undefined when the source is not a header. */
  readonly header: string | undefined;
  /**
   * True when names come from the app profile's `replica:` source (the app's or its proxy's own
   * words); false for the x-hactl-replica tag, which hactl's balancer sets to the cluster's ids.
   */
  readonly fromProfile: boolean;
  /** The replica that gave the answer, or null when the answer names none. */
  name(status: number, headerValue: string | null, headerCount: number, body: string, setCookies: readonly string[]): string | null;
}

/**
 * hactl's balancer's tag. It also tags its own 502/504 with the replica that failed or hung, on
 * purpose (that replica is the one at fault), and its 503 with `none`. A repeated tag names no
 * single replica.
 */
export const BALANCER_TAG: ReplicaIdentity = {
  header: REPLICA_HEADER,
  fromProfile: false,
  name: (_status, value, count) => (count > 1 ? null : value),
};

/**
 * A proxy in front of the replicas answers these itself when no replica could (bad gateway,
 * nothing in service, upstream timeout); whatever names a replica in them is the proxy's last
 * attempt, not an answer a replica gave.
 */
export const PROXY_ERRORS: ReadonlySet<number> = new Set([502, 503, 504]);

export function compileReplicaIdentity(source: ReplicaSource | undefined): ReplicaIdentity {
  if (source === undefined) return BALANCER_TAG;
  const normalise = compileValue(source);
  if (source.header !== undefined) {
    return {
      header: source.header.toLowerCase(),
      fromProfile: true,
      // A repeated header is one comma-separated list (RFC 9110 section 5.3): its last value's last hop is the list's.
      name: (status, value) => (value === null || PROXY_ERRORS.has(status) ? null : normalise(value)),
    };
  }
  if (source.json !== undefined) {
    const read = compileJsonPath(source.json);
    return {
      header: undefined,
      fromProfile: true,
      name(status, _value, _count, body) {
        if (PROXY_ERRORS.has(status)) return null;
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          return null;
        }
        const value = read(json);
        return typeof value === 'string' ? normalise(value) : typeof value === 'number' && Number.isFinite(value) ? normalise(String(value)) : null;
      },
    };
  }
  const cookie = source.cookie!;
  return {
    header: undefined,
    fromProfile: true,
    name(status, _value, _count, _body, setCookies) {
      if (PROXY_ERRORS.has(status)) return null;
      // The last Set-Cookie of the name wins, as it would in a browser's jar.
      let value: string | null = null;
      for (const header of setCookies) {
        const found = cookieValue(header, cookie);
        if (found !== undefined) value = found;
      }
      return value === null ? null : normalise(value);
    },
  };
}

/** The replica named in one whole answer (tests, and callers off the driver's hot path). */
export function replicaOf(identity: ReplicaIdentity, answer: Answer): string | null {
  let value: string | null = null;
  let count = 0;
  for (const [name, field] of answer.headers) {
    if (name === identity.header) {
      count++;
      value = field;
    }
  }
  return identity.name(answer.status, value, count, answer.body, answer.setCookies);
}

/**
 * A raw value to the name shown: the last hop of a comma-separated list (nginx's
 * $upstream_addr after a retry is `a, b`: the answer came from b), trimmed, through the pattern
 * and the map of names; an empty value, or one the pattern does not match, names no replica.
 */
function compileValue(source: ReplicaSource): (raw: string) => string | null {
  const pattern = source.pattern === undefined ? undefined : new RegExp(source.pattern);
  const names = new Map(Object.entries(source.names ?? {}));
  return (raw) => {
    const comma = raw.lastIndexOf(',');
    let value = (comma < 0 ? raw : raw.slice(comma + 1)).trim();
    if (pattern) {
      const match = pattern.exec(value);
      if (!match) return null;
      value = (match[1] ?? match[0]).trim();
    }
    if (value === '') return null;
    return names.get(value) ?? value;
  };
}

/** The value of cookie `name` in one Set-Cookie header, undefined when it sets another cookie. */
function cookieValue(header: string, name: string): string | undefined {
  const semicolon = header.indexOf(';');
  const pair = semicolon < 0 ? header : header.slice(0, semicolon);
  const equals = pair.indexOf('=');
  if (equals < 0 || pair.slice(0, equals).trim() !== name) return undefined;
  const value = pair.slice(equals + 1).trim();
  // A quoted cookie value (RFC 6265's DQUOTE form) names the same replica as the bare one.
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** How many capturing groups a regular expression has (an alternative that matches the empty string exposes them all). */
export function captureGroups(pattern: string): number {
  return new RegExp(`${pattern}|`).exec('')!.length - 1;
}
