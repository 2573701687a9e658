import type { OpenedStore } from './types.js';

/** express-session's built-in MemoryStore: each replica keeps its own sessions, as a lone JVM would. */
export async function openStore(): Promise<OpenedStore> {
  return { store: undefined, close: async () => {} };
}
