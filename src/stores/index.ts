import { mongo } from './mongo.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';
import type { StoreModule } from './store.js';

/**
 * Every store hactl knows, keyed by the name strategies use: the one list of store names
 * (StoreName is derived from its keys). Each module's own `name` is its key (checked by a test).
 */
export const stores = { redis, postgres, mongo } satisfies Record<string, StoreModule>;

export type { StoreModule, StoreName, RunningStore, StoreNode, StoreRole, Availability } from './store.js';
