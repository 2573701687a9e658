import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import type { AppConfig } from '../config.js';
import type { OpenedStore } from './types.js';

// connect-pg-simple's own table.sql, made idempotent.
const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "session" (
  "sid" varchar NOT NULL COLLATE "default" PRIMARY KEY,
  "sess" json NOT NULL,
  "expire" timestamp(6) NOT NULL
);
CREATE INDEX IF NOT EXISTS "IDX_session_expire" ON "session" ("expire");`;
// Replicas start together; an advisory lock keeps their CREATE TABLEs from racing on pg_type.
const SCHEMA_LOCK = 7_071_001;

/**
 * The store's reader endpoint (a hot standby), read only: connect-pg-simple's SELECT of the
 * session there; the table is the primary's (replicated), and touching a session would write.
 */
export async function openReaderStore(config: AppConfig, url: string): Promise<OpenedStore> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => {});
  // Fails here, not at the first read, when the standby cannot be reached.
  await pool.query('SELECT 1').catch(async (error: unknown) => {
    await pool.end().catch(() => {});
    throw error;
  });
  const PgStore = connectPgSimple(session);
  const store = new PgStore({ pool, tableName: 'session', ttl: config.ttlSeconds, pruneSessionInterval: false });
  store.touch = (_sid, _sess, cb) => cb?.();
  return { store, close: () => pool.end() };
}

/** connect-pg-simple over node-postgres: the JDBC store (Spring Session JDBC on RDS) of a Node app. */
export async function openStore(config: AppConfig): Promise<OpenedStore> {
  const pool = new pg.Pool({ connectionString: config.storeUrl, max: 10, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
      await client.query(CREATE_TABLE);
      await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const PgStore = connectPgSimple(session);
  return {
    // Pruning is the store's housekeeping; off so that replicas do not all sweep the table.
    store: new PgStore({ pool, tableName: 'session', ttl: config.ttlSeconds, pruneSessionInterval: false }),
    close: () => pool.end(),
  };
}
