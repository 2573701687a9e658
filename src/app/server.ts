import express, { type ErrorRequestHandler } from 'express';
import session from 'express-session';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { readAppConfig, type AppConfig } from './config.js';
import { sessionStoreLoaders } from './stores/index.js';
import type { OpenedStore } from './stores/types.js';

declare module 'express-session' {
  interface SessionData {
    user?: { userId: string; userNm: string };
    counter?: number;
  }
}

/**
 * The classic Spring `UserInfo` controller, in express: log in, read the session back, log out.
 * `reader`: the store's reader endpoint (a replica), which GET /counter/replica reads from.
 */
export function createApp(config: AppConfig, store: OpenedStore['store'], reader?: OpenedStore['store']) {
  const app = express();
  app.disable('x-powered-by');
  const replica = config.replicaId;
  const cookie = { httpOnly: true, sameSite: 'lax', path: '/', maxAge: config.ttlSeconds * 1000 } as const;

  // The session as the reader endpoint's replica has it, as an app that sends reads to replicas
  // sees it: counter null when the replica has no such session. Routed before the session
  // middleware, so the primary is not asked; nothing is saved and no cookie is set (not rolling).
  app.get(
    '/counter/replica',
    reader
      ? session({ name: config.cookieName, secret: config.secret, store: reader, resave: false, saveUninitialized: false, rolling: false, cookie })
      : (_req, res) => void res.status(404).json({ error: 'this replica was given no reader endpoint (HACTL_STORE_READER_URL)', replica }),
    (req, res) => {
      const user = req.session.user;
      res.json({ counter: user ? (req.session.counter ?? 0) : null, userId: user?.userId ?? null, replica });
    },
  );

  app.use(
    session({
      name: config.cookieName,
      secret: config.secret,
      store,
      resave: config.resave,
      saveUninitialized: false,
      // An idle timeout, as Spring Session's: every answer slides the expiry, in the store and
      // in the browser's cookie alike.
      rolling: true,
      cookie,
    }),
  );

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', replica });
  });

  app.post('/login', express.json(), (req, res, next) => {
    const { userId, userNm } = (req.body ?? {}) as Record<string, unknown>;
    if (typeof userId !== 'string' || typeof userNm !== 'string' || userId === '' || userNm === '') {
      res.status(400).json({ error: 'expected a JSON body {"userId": string, "userNm": string}', replica });
      return;
    }
    const signIn = () => {
      req.session.user = { userId, userNm };
      req.session.save((saveError) => (saveError ? next(saveError) : res.json({ userId, userNm, replica })));
    };
    // A new id at login: the pre-login id must not carry into the authenticated session (fixation).
    // Off (HACTL_SESSION_REGENERATE=false) only to show what the security scenario catches.
    if (config.regenerateOnLogin) req.session.regenerate((error) => (error ? next(error) : signIn()));
    else signIn();
  });

  app.get('/session', (req, res) => {
    const user = req.session.user;
    res.json({ userId: user?.userId ?? null, userNm: user?.userNm ?? null, replica });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => {
      if (error) return next(error);
      res.clearCookie(config.cookieName, { path: '/' }).json({ loggedOut: true, replica });
    });
  });

  app.get('/counter', (req, res) => {
    res.json({ counter: req.session.counter ?? 0, replica });
  });

  app.post('/counter', (req, res, next) => {
    const counter = (req.session.counter ?? 0) + 1;
    req.session.counter = counter;
    req.session.save((error) => (error ? next(error) : res.json({ counter, replica })));
  });

  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    // A store that is down surfaces here: answer 500 rather than serve a session-less page.
    res.status(500).json({ error: error instanceof Error ? error.message : String(error), replica });
  };
  app.use(onError);
  return app;
}

/**
 * Opens the session store, trying again while it is not up yet: a replica may start before its
 * store accepts connections (compose's depends_on orders starts, it does not wait for readiness).
 */
async function openStore(config: AppConfig, reader = false): Promise<OpenedStore> {
  const loaded: { openStore(config: AppConfig): Promise<OpenedStore>; openReaderStore?(config: AppConfig, url: string): Promise<OpenedStore> } = await sessionStoreLoaders[config.store]();
  const readerOf = loaded.openReaderStore;
  if (reader && !readerOf) throw new Error(`HACTL_STORE_READER_URL is set, and the ${config.store} session store reads from no replica`);
  const open = reader ? (given: AppConfig) => readerOf!.call(loaded, given, given.readerUrl!) : loaded.openStore;
  const deadline = Date.now() + config.storeConnectTimeoutMs;
  for (;;) {
    try {
      return await open(config);
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** How long a graceful stop waits for requests in flight: within the 5 s hactl grants before SIGKILL. */
const GRACEFUL_STOP_MS = 4_000;

async function main() {
  // Started by hactl with an IPC channel: when hactl goes away, so does the replica, even while
  // it is still starting (hence before any await).
  let shutdown: () => void = () => process.exit(0);
  let drain: () => void = () => process.exit(0);
  if (process.send) {
    if (!process.connected) process.exit(0);
    process.on('disconnect', () => shutdown());
  }
  // SIGTERM is a graceful stop (a rolling restart): finish what is in flight, then go.
  process.on('SIGTERM', () => drain());
  process.on('SIGINT', () => shutdown());

  const config = readAppConfig(process.env);
  const opened = await openStore(config);
  const reader = config.readerUrl ? await openStore(config, true) : undefined;
  const server = createApp(config, opened.store, reader?.store).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  console.log(`demo app ${config.replicaId} listening on http://${config.host}:${port} (sessions: ${config.store})`);

  const exit = () => void Promise.allSettled([opened.close(), reader?.close()]).finally(() => process.exit(0));
  shutdown = () => {
    server.close();
    server.closeAllConnections();
    exit();
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  drain = () => {
    // No new connections; idle keep-alive ones close now, busy ones once their answer is sent.
    server.close(exit);
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), GRACEFUL_STOP_MS).unref();
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`demo app failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
