import type { AppConfig } from '../config.js';
import type { OpenedStore } from './types.js';

/**
 * The session stores the demo app can open, by the name HACTL_SESSION_STORE gives: the one list
 * (a new store is an adapter file and its line here). Loaded on demand: a memory replica should
 * not pay for loading the Mongo driver at start-up. Literal import paths, so that a bundler (the
 * container image) sees every store.
 */
export const sessionStoreLoaders = {
  memory: () => import('./memory.js'),
  redis: () => import('./redis.js'),
  postgres: () => import('./postgres.js'),
  mongo: () => import('./mongo.js'),
} satisfies Record<string, () => Promise<{ openStore(config: AppConfig): Promise<OpenedStore>; openReaderStore?(config: AppConfig, url: string): Promise<OpenedStore> }>>;

export type SessionStoreKind = keyof typeof sessionStoreLoaders;

export const SESSION_STORE_KINDS = Object.keys(sessionStoreLoaders) as SessionStoreKind[];
