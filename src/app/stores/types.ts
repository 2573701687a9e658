import type session from 'express-session';

/** A session store the demo app can use, plus what must be closed on shutdown. */
export interface OpenedStore {
  store?: session.Store;
  close(): Promise<void>;
}
