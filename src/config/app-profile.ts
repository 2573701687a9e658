import { z } from 'zod';
import { parseWith, readYamlFile } from '../platform/yaml-file.js';
import type { AppProfile, Capture, HttpRequest, Identity, LoginStep } from '../driver/app-profile.js';
import { safeDecode } from '../driver/forge.js';
import { captureGroups, compileReplicaIdentity } from '../driver/replica-identity.js';
import { UsageError } from '../platform/errors.js';
import { HTTP_TOKEN, HTTP_TOKEN_CHARS } from '../platform/http-token.js';
import { STRATEGY_NAMES } from '../strategies.js';
import { compileJsonPath, validJsonPath } from '../platform/json-path.js';
import { loadAccounts, type Accounts } from './accounts.js';
import { compileTemplate, fieldsOf, renderTemplate, replaceFields, TEMPLATE_FIELDS, templateProblem } from './template.js';

/**
 * The YAML form of an app profile. Strings in requests and hit predicates are templates over
 * the virtual user's fields ({{userId}}, {{userNm}}) and, in requests, the values the login's
 * steps capture ({{csrf}}).
 */
const templateOf = (fields: readonly string[]) =>
  z.string().superRefine((value, context) => {
    const problem = templateProblem(value, fields);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

/** The fields a request may use: the user's (the login's steps only) and what the login captures, each said apart in messages. */
interface RequestFields {
  user: readonly string[];
  captured: readonly string[];
}

function fieldProblem(template: string, fields: RequestFields): string | undefined {
  const allowed = [...fields.user, ...fields.captured];
  if (templateProblem(template, allowed) === undefined) return undefined;
  const unknown = fieldsOf(template).filter((field) => !allowed.includes(field));
  const named = unknown.map((field) => `{{${field}}}`).join(', ');
  if (allowed.length === 0) return `${named}: this request is the same for every user and takes no fields (only values a login step captures: capture: { NAME: ... })`;
  return `unknown field ${named}; expected ${allowed.map((field) => `{{${field}}}`).join(', ')}${fields.user.length > 0 ? '' : ' (values the login captures; the user\'s own fields only in the login)'}`;
}
const requestTemplate = (fields: RequestFields) =>
  z.string().superRefine((value, context) => {
    const problem = fieldProblem(value, fields);
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

/** A request; only the login is per user, so only it may use the user's fields; any may use what the login captured. */
const requestShape = (fields: RequestFields) => {
  const template = requestTemplate(fields);
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
          const problem = fieldProblem(text, fields);
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
const requestOf = (fields: RequestFields) => z.strictObject(requestShape(fields)).refine(oneBody, ONE_BODY);

/** Capture names are template fields: `{{csrf}}`. */
const CAPTURE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
/** More steps than a login page, the form and a page after it is a script, not a login. */
const MAX_LOGIN_STEPS = 5;

/** Where a login step finds a value in its answer: exactly one of a cookie, a header, a JSON path, a regular expression over the body. */
const captureSource = z
  .strictObject({
    cookie: z.string().regex(HTTP_TOKEN, `expected a cookie name (${HTTP_TOKEN_CHARS})`).optional(),
    header: z
      .string()
      .regex(HTTP_TOKEN, `expected a header name (${HTTP_TOKEN_CHARS})`)
      .refine((name) => name.toLowerCase() !== 'set-cookie', { message: 'expected a header other than Set-Cookie (capture a cookie with cookie: NAME)' })
      .optional(),
    json: jsonPath.optional(),
    body: z
      .string()
      .superRefine((value, context) => {
        let groups: number;
        try {
          groups = captureGroups(value);
        } catch (error) {
          return void context.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
        }
        if (groups !== 1) context.addIssue({ code: 'custom', message: `expected a regular expression with exactly one group, the value to capture (got ${groups}); make any other group (?:...)` });
      })
      .optional(),
  })
  .refine((source) => [source.cookie, source.header, source.json, source.body].filter((one) => one !== undefined).length === 1, {
    message: 'give exactly one of cookie (a cookie the answer sets), header (a response header), json (a JSON path into the body) and body (a regular expression over the body with one group)',
  });
type CaptureSource = z.output<typeof captureSource>;

/** One step of a login: a request, what it captures from its answer, and what a redirect answer means. */
const loginStepOf = (fields: RequestFields, userFields: readonly string[]) =>
  z
    .strictObject({
      ...requestShape(fields),
      redirect: z.enum(['refuse', 'accept', 'follow']).default('refuse'),
      capture: z
        .record(z.string(), captureSource)
        .superRefine((captures, context) => {
          for (const name of Object.keys(captures)) {
            if (!CAPTURE_NAME.test(name)) context.addIssue({ code: 'custom', path: [name], message: 'expected a capture name of letters and digits, starting with a letter (it is used as {{name}})' });
            else if (userFields.includes(name)) context.addIssue({ code: 'custom', path: [name], message: `{{${name}}} is already the user's own field; name the capture otherwise` });
          }
        })
        .optional(),
    })
    .refine(oneBody, ONE_BODY);
type LoginStepFile = z.output<ReturnType<typeof loginStepOf>>;

/**
 * The login: one request (its answer may redirect, as a form login's 302 does), or a list of
 * steps, each using the user's fields and what earlier steps captured. A step is parsed with the
 * names captured before it, so that a name used before it is captured is refused where it is used.
 */
const loginOf = (userFields: readonly string[]) => {
  const one = requestOf({ user: userFields, captured: [] }).transform((request): LoginStepFile[] => [{ ...request, redirect: 'accept' }]);
  const steps = z
    .array(z.unknown())
    .min(1, 'expected at least one login step')
    .max(MAX_LOGIN_STEPS, `expected at most ${MAX_LOGIN_STEPS} login steps`)
    .transform((items, context): LoginStepFile[] => {
      const parsed: LoginStepFile[] = [];
      const captured: string[] = [];
      for (const [index, item] of items.entries()) {
        const step = loginStepOf({ user: userFields, captured: [...captured] }, userFields).safeParse(item);
        if (!step.success) {
          for (const issue of step.error.issues) context.addIssue({ code: 'custom', path: [index, ...issue.path], message: issue.message });
          // Its names still count as captured: one mistake is one line, not one more per later use.
          captured.push(...capturedNames({ login: [item] }).filter((name) => !captured.includes(name)));
          continue;
        }
        parsed.push(step.data);
        for (const name of Object.keys(step.data.capture ?? {})) if (!captured.includes(name)) captured.push(name);
      }
      return parsed;
    });
  // Not a union: its problems would be both branches' at once. A list is steps, anything else one request.
  return z.unknown().transform((value, context): LoginStepFile[] => {
    const parsed = (Array.isArray(value) ? steps : one).safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    return z.NEVER;
  });
};

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
const profileSchemaOf = (fields: readonly string[], captured: readonly string[] = []) => {
  const request = requestOf({ user: [], captured });
  return z.strictObject({
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
  login: loginOf(fields),
  read: z.strictObject({ ...requestShape({ user: [], captured }), hit: hitOf(fields) }).refine(oneBody, ONE_BODY),
  logout: request.optional(),
  increment: request.optional(),
  counter: z.strictObject({ ...requestShape({ user: [], captured }), value: jsonPath }).refine(oneBody, ONE_BODY).optional(),
  /** The counter read through the store's reader endpoint (a replica): replica-reads. */
  readReplica: z.strictObject({ ...requestShape({ user: [], captured }), value: jsonPath }).refine(oneBody, ONE_BODY).optional(),
  replica: replicaSource.optional(),
  });
};

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
  const captured = capturedNames(data);
  const file = parseWith(accounts || captured.length > 0 ? profileSchemaOf(accounts?.columns ?? TEMPLATE_FIELDS, captured) : seededSchema, data, source);
  if (file.users !== undefined && !accounts) throw new UsageError(`${source}: users: the accounts file ${file.users} was not read`);
  if (file.increment && !file.counter) throw new UsageError(`${source}: counter: expected a counter request (with value: a JSON path) beside increment`);
  const { hit: predicate, ...readRequest } = file.read;
  const sessionIdPattern = file.sessionId === undefined ? undefined : new RegExp(file.sessionId);
  const matches = compileMatch(predicate);
  const readCounter = file.counter && compileJsonPath(file.counter.value);
  const readReplicaCounter = file.readReplica && compileJsonPath(file.readReplica.value);

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
    login: file.login.map(compileLoginStep),
    read: compileRequest(readRequest, captured),
    isHit: (status, body, identity) => status === predicate.status && matches(body, identity),
    showsAnyUser: (status, body) => status === predicate.status && matches(body, undefined),
    sessionId(cookieValue) {
      const decoded = safeDecode(cookieValue);
      if (!sessionIdPattern) return decoded;
      const match = sessionIdPattern.exec(decoded);
      return match ? (match[1] ?? match[0]) : decoded;
    },
    ...(file.logout ? { logout: compileRequest(file.logout, captured) } : {}),
    ...(file.increment ? { increment: compileRequest(file.increment, captured) } : {}),
    ...(file.counter
      ? {
          counter: compileRequest(file.counter, captured),
          counterValue(status: number, body: string) {
            if (status < 200 || status >= 300) return undefined;
            const value = readCounter!(parseJson(body));
            return typeof value === 'number' ? value : undefined;
          },
        }
      : {}),
    ...(file.readReplica
      ? {
          readReplica: compileRequest(file.readReplica, captured),
          replicaCounterValue(status: number, body: string) {
            if (status < 200 || status >= 300) return undefined;
            const value = readReplicaCounter!(parseJson(body));
            return typeof value === 'number' ? value : undefined;
          },
        }
      : {}),
    ...(file.replica ? { replica: compileReplicaIdentity(file.replica) } : {}),
  };
}

type RequestFile = z.output<ReturnType<typeof requestOf>>;

/**
 * The names the profile's login steps capture, read before the profile is parsed: the other
 * requests' templates are checked against them (a step's own, against those of earlier steps).
 */
function capturedNames(data: unknown): string[] {
  const login = (data as { login?: unknown } | null)?.login;
  if (!Array.isArray(login)) return [];
  const names = login.flatMap((step) => {
    const capture = (step as { capture?: unknown } | null)?.capture;
    return capture !== null && typeof capture === 'object' && !Array.isArray(capture) ? Object.keys(capture).filter((name) => CAPTURE_NAME.test(name)) : [];
  });
  return [...new Set(names)];
}

/**
 * A request that is the same for every user. One that uses captured values is filled per user
 * as it is sent (src/driver/captures.ts); a value the user's login did not capture (a copied
 * cookie's browser has none) is sent empty, never as the {{name}} written.
 */
function compileRequest(file: RequestFile, captured: readonly string[]): HttpRequest {
  const request = buildRequest(file, {});
  const used = new Set(requestTemplates(file).flatMap(fieldsOf));
  const uses = captured.filter((name) => used.has(name));
  if (uses.length === 0) return request;
  const blank = Object.fromEntries(uses.map((name) => [name, '']));
  return { ...request, fill: (values) => buildRequest(file, { ...blank, ...values }) };
}

/** Every template string of a request. */
function requestTemplates(file: RequestFile): string[] {
  return [
    file.path,
    ...Object.values(file.headers ?? {}),
    ...(file.json === undefined ? [] : [...jsonStrings(file.json, [])].map(({ text }) => text)),
    ...Object.values(file.form ?? {}).filter((value): value is string => typeof value === 'string'),
    ...(file.body === undefined ? [] : [file.body]),
  ];
}

function compileLoginStep(file: LoginStepFile): LoginStep {
  const { redirect, capture, ...request } = file;
  return {
    request: (values) => buildRequest(request, values),
    redirect,
    captures: Object.entries(capture ?? {}).map(([name, source]) => compileCapture(name, source)),
  };
}

/**
 * How a step reads a value from its answer. A cookie is the answer's own Set-Cookie, or else the
 * one the user's browser already holds (a token cookie set once is not set again), as it is
 * written: what a page's script would read and send back.
 */
function compileCapture(name: string, source: CaptureSource): Capture {
  if (source.cookie !== undefined) {
    const cookie = source.cookie;
    return {
      name,
      from: `a ${cookie} cookie`,
      read: (answer, cookies) => {
        for (const line of [...answer.setCookies].reverse()) {
          const pair = line.split(';', 1)[0]!;
          const equals = pair.indexOf('=');
          if (equals > 0 && pair.slice(0, equals).trim() === cookie) return pair.slice(equals + 1).trim();
        }
        return cookies.get(cookie);
      },
    };
  }
  if (source.header !== undefined) {
    const header = source.header.toLowerCase();
    return { name, from: `a ${source.header} header`, read: (answer) => answer.headers.findLast(([key]) => key === header)?.[1] };
  }
  if (source.json !== undefined) {
    const read = compileJsonPath(source.json);
    return {
      name,
      from: `a value at ${source.json}`,
      read: (answer) => {
        const value = read(parseJson(answer.body));
        return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
      },
    };
  }
  const pattern = new RegExp(source.body!);
  return { name, from: `a match of /${source.body}/ in the body`, read: (answer) => pattern.exec(answer.body)?.[1] };
}

/** A request with the template fields filled in from `values` (the user's, what the login captured). */
function buildRequest(file: RequestFile, values: Readonly<Record<string, string>>): HttpRequest {
  const fill = (value: string) => renderTemplate(value, values);
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
