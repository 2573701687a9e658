import { mongo } from './mongo.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';
import type { StoreModule, StoreName } from './store.js';

/** Every store hactl knows, keyed by the name strategies use. */
export const stores: Record<StoreName, StoreModule> = { redis, postgres, mongo };

export type { StoreModule, StoreName, RunningStore, Availability } from './store.js';
