import { z } from 'zod';

/**
 * A fault on the connections between the replicas and their store, modelled on Toxiproxy's
 * toxics (github.com/Shopify/toxiproxy, toxics/*.go) and its disabled proxy:
 * - latency: the store's answers (Toxiproxy's default `downstream` stream) arrive latency ± jitter
 *   later, in order; with dropOnClose, what is still held when the store's side closes is dropped
 *   (the bytes were the store's backlog, not on the wire: a replica far behind a primary that dies);
 * - timeout: no data passes either way; the connection is closed after timeoutMs (0: never);
 * - reset_peer: connections are reset (TCP RST) at once, or after timeoutMs, new ones too;
 * - down: the proxy refuses connections and closes the open ones (Toxiproxy's `enabled: false`).
 * One toxic at a time; setting one replaces the previous.
 */
export type Toxic =
  | { type: 'latency'; latencyMs: number; jitterMs?: number; dropOnClose?: boolean }
  | { type: 'timeout'; timeoutMs: number }
  | { type: 'reset_peer'; timeoutMs?: number }
  | { type: 'down' };

export const TOXIC_TYPES = ['latency', 'timeout', 'reset_peer', 'down'] as const satisfies readonly Toxic['type'][];

// Every wait is bounded, a toxic's too: ten minutes outlasts any scenario phase (five at most).
const MAX_MS = 600_000;
const milliseconds = z.number().int().min(0).max(MAX_MS);

/** The toxic as a scenario file or the admin API gives it. */
export const TOXIC_SCHEMA = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('latency'), latencyMs: milliseconds, jitterMs: milliseconds.optional(), dropOnClose: z.boolean().optional() }),
    z.strictObject({ type: z.literal('timeout'), timeoutMs: milliseconds }),
    z.strictObject({ type: z.literal('reset_peer'), timeoutMs: milliseconds.optional() }),
    z.strictObject({ type: z.literal('down') }),
  ],
  { error: () => `expected type to be one of ${TOXIC_TYPES.join(', ')}` },
);

// The schema and the declared type must not drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesType: Same<z.infer<typeof TOXIC_SCHEMA>, Toxic> = true;
void schemaMatchesType;

/** Validates an untrusted toxic; a refusal is one line naming each field at fault. */
export function parseToxic(value: unknown): { ok: true; toxic: Toxic } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `invalid toxic: expected a JSON object such as {"type":"latency","latencyMs":200}, got ${(JSON.stringify(value) ?? String(value)).slice(0, 60)}` };
  }
  const parsed = TOXIC_SCHEMA.safeParse(value);
  if (parsed.success) return { ok: true, toxic: parsed.data };
  const reason = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'toxic'}: ${issue.message}`).join('; ');
  return { ok: false, reason: `invalid toxic: ${reason}` };
}
