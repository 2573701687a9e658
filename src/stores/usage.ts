import { errorMessage } from '../platform/errors.js';
import { stores } from './index.js';
import type { RunningStore } from './store.js';

/** The store's entry count, or why it could not be had (no way to ask on this runtime, no answer). */
export async function countStoreEntries(store: RunningStore): Promise<number | string> {
  if (!store.countEntries) return `hactl cannot ask ${store.name} here`;
  try {
    return await store.countEntries();
  } catch (error) {
    return `${store.name} did not answer: ${errorMessage(error)}`;
  }
}

/**
 * Whether the app wrote to its store while `logins` logins were answered, from the store's entry
 * counts before and after them: a line saying it did not, naming the template field that wires a
 * replica to the store; undefined when it did, when no login was answered (a failed login is its
 * own finding), or when a count could not be had. An increase, not a non-empty store: the
 * database may hold the app's own tables, and earlier rows' sessions stay in the store. A
 * forgotten `--app-env REDIS_URL={redisUrl}` would otherwise give a `redis` row with per-replica
 * memory's figures under Redis's name.
 */
export function storeUnused(store: Pick<RunningStore, 'name'>, logins: number, before: number | string, after: number | string): string | undefined {
  if (logins === 0 || typeof before !== 'number' || typeof after !== 'number' || after > before) return undefined;
  const field = stores[store.name].urlField;
  return (
    `the app wrote no session to ${store.name} (it held ${before} entries before ${logins} answered logins and ${after} after): is it wired to {${field}}? ` +
    `Pass the store's address to each replica, e.g. --app-env 'SESSION_STORE_URL={${field}}' or {${field}} in --app-cmd`
  );
}
