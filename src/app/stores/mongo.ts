import MongoStore from 'connect-mongo';
import { MongoClient } from 'mongodb';
import type { AppConfig } from '../config.js';
import type { OpenedStore } from './types.js';

/** connect-mongo over the official driver: Spring Session MongoDB on DocumentDB, for Node. */
export async function openStore(config: AppConfig): Promise<OpenedStore> {
  // A replica set's URL (mongo:replica-set) names every member, the set and the write concern
  // (w=1, w=majority): the driver follows elections itself, and connect-mongo, given no write
  // concern of its own, writes with the client's, so the URL alone says how a write is acknowledged.
  const client = new MongoClient(config.storeUrl!, { serverSelectionTimeoutMS: 2_000 });
  await client.connect().catch(async (error: unknown) => {
    await client.close().catch(() => {});
    throw error;
  });
  return {
    store: MongoStore.create({ client, collectionName: 'sessions', ttl: config.ttlSeconds, stringify: false }),
    close: () => client.close(),
  };
}
