import { stores } from './index.js';
import type { RunningStore } from './store.js';

/**
 * Whether the app wrote anything to its store after `logins` answered logins: one line saying it
 * did not, naming the template field that wires a replica to the store; undefined when it did,
 * when no login was answered (a failed login is its own finding), or when the store cannot be
 * asked. A forgotten `--app-env REDIS_URL={redisUrl}` would otherwise give a `redis` row with
 * per-replica memory's figures under Redis's name.
 */
export async function storeUnused(store: RunningStore, logins: number): Promise<string | undefined> {
  if (logins === 0 || !store.countEntries) return undefined;
  const entries = await store.countEntries();
  if (entries > 0) return undefined;
  const field = stores[store.name].urlField;
  return (
    `the app wrote no session to ${store.name} (it held nothing after ${logins} answered logins): is it wired to {${field}}? ` +
    `Pass the store's address to each replica, e.g. --app-env 'SESSION_STORE_URL={${field}}' or {${field}} in --app-cmd`
  );
}
