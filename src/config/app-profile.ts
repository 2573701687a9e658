import { z } from 'zod';
import { parseWith, readYamlFile } from '../platform/yaml-file.js';
import type { AppProfile, HttpRequest, Identity } from '../driver/app-profile.js';
import { safeDecode } from '../driver/forge.js';
import { captureGroups, compileReplicaIdentity } from '../driver/replica-identity.js';
import { UsageError } from '../platform/errors.js';
import { HTTP_TOKEN, HTTP_TOKEN_CHARS } from '../platform/http-token.js';
import { STRATEGY_NAMES } from '../strategies.js';
import { compileJsonPath, validJsonPath } from '../platform/json-path.js';
import { loadAccounts, type Accounts } from './accounts.js';
import { compileTemplate, renderTemplate, replaceFields, TEMPLATE_FIELDS, templateProblem } from './template.js';

/**
 * The YAML form of an app profile. Strings in requests and hit predicates are templates over
 * the virtual user's fields ({{userId}}, {{userNm}}).
 */
const templateOf = (fields: readonly string[]) =>
  z.string().superRefine((value, context) => {
    const problem = templateProblem(value, fields);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
const jsonPath = z.string().refine(validJsonPath, { message: 'expected a JSON path such as $.user.id or $.items[0].name' });
const regex = z.string().superRefine((value, context) => {
  try {
    new RegExp(replaceFields(value, () => 'x'));
  } catch (error) {
    context.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

/** A request; only the login request is per user, so only it may use the user's fields. */
const requestShape = (fields: readonly string[]) => {
  const template = templateOf(fields);
  return {
    // Methods are case-sensitive on the wire (RFC 9110), but `get` in a profile can only mean GET.
    method: z
      .string()
      .transform((method) => method.toUpperCase())
      .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
      .default('GET'),
    path: template
      .refine((path) => path.startsWith('/'), { message: 'expected a path starting with /' })
      .refine((path) => !/[\x00-\x20\x7f]/.test(path), { message: 'expected a path without spaces or control characters (percent-encode them)' }),
    headers: z
      .record(
        z.string(),
        template.refine((value) => !/[\r\n\0]/.test(value), { message: 'expected a header value on one line (no CR, LF or NUL)' }),
      )
      .superRefine((headers, context) => {
        for (const name of Object.keys(headers)) {
          if (!HTTP_TOKEN.test(name)) context.addIssue({ code: 'custom', path: [name], message: `expected a header name (${HTTP_TOKEN_CHARS})` });
        }
      })
      .optional(),
    json: z
      .record(z.string(), z.unknown())
      .superRefine((json, context) => {
        for (const { path, text } of jsonStrings(json, [])) {
          const problem = templateProblem(text, fields);
          if (problem) context.addIssue({ code: 'custom', path, message: problem });
        }
      })
      .optional(),
    form: z.record(z.string(), z.union([template, z.number(), z.boolean()])).optional(),
    body: template.optional(),
  };
};
/** Every string in a JSON body, with where it is, for its template fields to be checked. */
function* jsonStrings(value: unknown, path: (string | number)[]): Generator<{ path: (string | number)[]; text: string }> {
  if (typeof value === 'string') yield { path, text: value };
  else if (Array.isArray(value)) for (const [index, item] of value.entries()) yield* jsonStrings(item, [...path, index]);
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* jsonStrings(item, [...path, key]);
}

const ONE_BODY = { message: 'give at most one of json, form and body' };
const oneBody = (value: { json?: unknown; form?: unknown; body?: unknown }) => [value.json, value.form, value.body].filter((body) => body !== undefined).length <= 1;
const requestOf = (fields: readonly string[]) => z.strictObject(requestShape(fields)).refine(oneBody, ONE_BODY);
const request = requestOf([]);

/** The hit predicate, its expected values templated over the user's fields. */
const hitOf = (fields: readonly string[]) => {
  const userTemplate = templateOf(fields);
  return z
    .strictObject({
      status: z.number().int().min(100).max(599).default(200),
      json: z
        .record(z.string(), z.union([userTemplate, z.number(), z.boolean()]))
        .superRefine((paths, context) => {
          for (const path of Object.keys(paths)) {
            if (!validJsonPath(path)) context.addIssue({ code: 'custom', path: [path], message: 'expected a JSON path such as $.user.id or $.items[0].name' });
          }
        })
        .optional(),
      body: regex.pipe(userTemplate).optional(),
    })
    .refine((value) => (value.json === undefined) !== (value.body === undefined), { message: 'give exactly one of json (JSON path: expected value) and body (a regular expression)' });
};

const headerName = z
  .string()
  .regex(HTTP_TOKEN, `expected a header name (${HTTP_TOKEN_CHARS})`)
  .refine((name) => name.toLowerCase() !== 'set-cookie', { message: 'expected a header other than Set-Cookie (a cookie the answer sets is read with cookie: NAME)' });

/** Where answers name the replica that gave them (src/driver/replica-identity.ts). */
const replicaSource = z
  .strictObject({
    header: headerName.optional(),
    json: jsonPath.optional(),
    cookie: z.string().regex(HTTP_TOKEN, `expected a cookie name (${HTTP_TOKEN_CHARS})`).optional(),
    pattern: z
      .string()
      .superRefine((value, context) => {
        let groups: number;
        try {
          groups = captureGroups(value);
        } catch (error) {
          return void context.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
        }
        if (groups > 1) context.addIssue({ code: 'custom', message: `expected a regular expression with at most one group (its value names the replica), got ${groups} groups; make the others (?:...)` });
      })
      .optional(),
    names: z.record(z.string(), z.union([z.string().trim().min(1, 'expected a non-empty name'), z.number().transform(String)])).optional(),
  })
  .refine((source) => [source.header, source.json, source.cookie].filter((one) => one !== undefined).length === 1, {
    message: 'give exactly one of header (a response header), json (a JSON path into the body) and cookie (a cookie the answer sets)',
  });

/** The profile's schema, its per-user templates over `fields`: the seeded ones, or the accounts file's columns. */
const profileSchemaOf = (fields: readonly string[]) => z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case name of letters, digits and dashes'),
  cookie: z.string().regex(HTTP_TOKEN, `expected a cookie name (${HTTP_TOKEN_CHARS})`),
  sessionId: regex.optional(),
  health: z.string().startsWith('/', 'expected a path starting with /').default('/health'),
  containerPort: z.number().int().min(1).max(65_535).optional(),
  idleTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  crossSiteCookie: z.boolean().optional(),
  strategies: z.array(z.enum(STRATEGY_NAMES)).min(1).optional(),
  /** Test accounts: a CSV file, relative to the profile, whose columns are the template fields. */
  users: z.string().min(1, 'expected the path of a CSV file of test accounts, such as accounts.csv').optional(),
  login: requestOf(fields),
  read: z.strictObject({ ...requestShape([]), hit: hitOf(fields) }).refine(oneBody, ONE_BODY),
  logout: request.optional(),
  increment: request.optional(),
  counter: z.strictObject({ ...requestShape([]), value: jsonPath }).refine(oneBody, ONE_BODY).optional(),
  replica: replicaSource.optional(),
});

const seededSchema = profileSchemaOf(TEMPLATE_FIELDS);
type ProfileSchema = typeof seededSchema;
type Hit = z.output<ProfileSchema>['read']['hit'];

export type AppProfileFile = z.input<ProfileSchema>;

/** Reads, validates and compiles a profile file (and its accounts file); every problem is one line naming file and field. */
export async function loadAppProfile(file: string): Promise<AppProfile> {
  const data = await readYamlFile(file, '--app-profile: cannot read');
  const users = (data as { users?: unknown } | null)?.users;
  return compileAppProfile(data, file, typeof users === 'string' && users !== '' ? await loadAccounts(file, users) : undefined);
}

/** `accounts`: the file `users:` names, read (loadAppProfile reads it); its columns are then the template fields. */
export function compileAppProfile(data: unknown, source: string, accounts?: Accounts): AppProfile {
  const file = parseWith(accounts ? profileSchemaOf(accounts.columns) : seededSchema, data, source);
  if (file.users !== undefined && !accounts) throw new UsageError(`${source}: users: the accounts file ${file.users} was not read`);
  if (file.increment && !file.counter) throw new UsageError(`${source}: counter: expected a counter request (with value: a JSON path) beside increment`);
  const { hit: predicate, ...readRequest } = file.read;
  const sessionIdPattern = file.sessionId === undefined ? undefined : new RegExp(file.sessionId);
  const matches = compileMatch(predicate);
  const readCounter = file.counter && compileJsonPath(file.counter.value);

  return {
    name: file.name,
    source,
    cookieName: file.cookie,
    healthPath: file.health,
    ...(file.containerPort !== undefined ? { containerPort: file.containerPort } : {}),
    ...(file.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: file.idleTimeoutSeconds } : {}),
    ...(file.crossSiteCookie !== undefined ? { crossSiteCookie: file.crossSiteCookie } : {}),
    ...(file.strategies ? { strategies: file.strategies } : {}),
    ...(accounts ? { accounts: accounts.rows, accountsSource: accounts.file } : {}),
    login: (identity) => buildRequest(file.login, identity),
    read: buildRequest(readRequest, undefined),
    isHit: (status, body, identity) => status === predicate.status && matches(body, identity),
    showsAnyUser: (status, body) => status === predicate.status && matches(body, undefined),
    sessionId(cookieValue) {
      const decoded = safeDecode(cookieValue);
      if (!sessionIdPattern) return decoded;
      const match = sessionIdPattern.exec(decoded);
      return match ? (match[1] ?? match[0]) : decoded;
    },
    ...(file.logout ? { logout: buildRequest(file.logout, undefined) } : {}),
    ...(file.increment ? { increment: buildRequest(file.increment, undefined) } : {}),
    ...(file.counter
      ? {
          counter: buildRequest(file.counter, undefined),
          counterValue(status: number, body: string) {
            if (status < 200 || status >= 300) return undefined;
            const value = readCounter!(parseJson(body));
            return typeof value === 'number' ? value : undefined;
          },
        }
      : {}),
    ...(file.replica ? { replica: compileReplicaIdentity(file.replica) } : {}),
  };
}

type RequestFile = z.output<ReturnType<typeof requestOf>>;


/** A request with the user's fields filled in; without an identity, templates must not use any. */
function buildRequest(file: RequestFile, identity: Identity | undefined): HttpRequest {
  const fill = (value: string) => (identity ? renderTemplate(value, identity) : value);
  const headers: Record<string, string> = Object.fromEntries(Object.entries(file.headers ?? {}).map(([key, value]) => [key.toLowerCase(), fill(value)]));
  let body: string | undefined;
  if (file.json !== undefined) {
    body = JSON.stringify(fillJson(file.json, fill));
    headers['content-type'] ??= 'application/json';
  } else if (file.form !== undefined) {
    body = new URLSearchParams(Object.entries(file.form).map(([key, value]): [string, string] => [key, typeof value === 'string' ? fill(value) : String(value)])).toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (file.body !== undefined) {
    body = fill(file.body);
  }
  return { method: file.method, path: fill(file.path), ...(Object.keys(headers).length ? { headers } : {}), ...(body !== undefined ? { body } : {}) };
}

function fillJson(value: unknown, fill: (text: string) => string): unknown {
  if (typeof value === 'string') return fill(value);
  if (Array.isArray(value)) return value.map((item) => fillJson(item, fill));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillJson(item, fill)]));
  return value;
}

/**
 * With an identity: every JSON path holds the templated value, or the regular expression (with
 * the user's fields escaped into it) matches. Without one (whose data is it?): every JSON path
 * holds a non-empty value, or the expression matches with any text in place of each field.
 * Compiled once per profile: it judges every read.
 */
function compileMatch(predicate: Hit): (body: string, identity: Identity | undefined) => boolean {
  if (predicate.json) {
    const checks = Object.entries(predicate.json).map(([path, expected]) => ({
      read: compileJsonPath(path),
      expected: typeof expected === 'string' ? compileTemplate(expected) : () => expected,
    }));
    return (body, identity) => {
      const json = parseJson(body);
      if (json === undefined) return false;
      return checks.every(({ read, expected }) => {
        const actual = read(json);
        if (!identity) return actual !== undefined && actual !== null && actual !== '';
        return actual === expected(identity);
      });
    };
  }
  const pattern = compileTemplate(predicate.body!);
  const anyUser = new RegExp(replaceFields(predicate.body!, () => '[^\\s"\'<>]+'));
  // A user's expression is built on its first read and kept: identities live as long as their users.
  const perUser = new WeakMap<Identity, RegExp>();
  const expressionOf = (identity: Identity) => {
    let expression = perUser.get(identity);
    if (!expression) perUser.set(identity, (expression = new RegExp(pattern(identity, escapeRegex))));
    return expression;
  };
  return (body, identity) => (identity ? expressionOf(identity) : anyUser).test(body);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
