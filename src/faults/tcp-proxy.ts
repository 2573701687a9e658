import net, { type AddressInfo, type Socket } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { EnvironmentError, errorMessage } from '../platform/errors.js';
import { settleWithin } from '../platform/time.js';
import { Link, type Endpoint } from './link.js';
import type { Toxic } from './toxics.js';
import { toxicUnit, type ToxicUnit } from './units.js';

export type { Endpoint } from './link.js';

export interface TcpProxyOptions {
  host: string;
  /** 0: a free port, kept for the proxy's life (also across `down`). */
  port: number;
  upstream: Endpoint;
}

export interface TcpProxyStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since the start. */
  accepted: number;
  /** Bytes clients sent through it since the start: whether traffic, not just a connection, came this way. */
  received: number;
  /** False while `down` is set (or if listening again after it failed). */
  listening: boolean;
  toxic: Toxic | undefined;
}

export interface TcpProxy {
  readonly port: number;
  /** Replaces the toxic; undefined removes it. Calls are applied one after another, in order. */
  setToxic(toxic: Toxic | undefined): Promise<void>;
  toxic(): Toxic | undefined;
  /**
   * Sends new connections to `upstream` and closes the open ones, as a managed store's endpoint
   * (a DNS name) follows a failover: a client still talking to the old node would not notice.
   */
  setUpstream(upstream: Endpoint): Promise<void>;
  upstream(): Endpoint;
  stats(): TcpProxyStats;
  /** Closes the listener and every connection; bounded in time. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 2_000;

/**
 * A TCP proxy with Toxiproxy's semantics and one toxic at a time: it forwards every connection
 * to `upstream` and lets the current toxic's unit act on each. It knows no toxic by name.
 */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  /** Each open connection, with what undoes the current toxic on it. */
  const links = new Map<Link, () => void>();
  let current: { toxic: Toxic; unit: ToxicUnit } | undefined;
  let server: net.Server | undefined;
  let port = options.port;
  let accepted = 0;
  let received = 0;
  let stopped = false;
  let applying: Promise<unknown> = Promise.resolve();
  let upstream: Endpoint = { ...options.upstream };
  const nothing = () => undefined;

  const onConnection = (socket: Socket) => {
    if (stopped || current?.unit.listens === false) return void socket.destroy();
    accepted += 1;
    // A second listener beside the link's own: the socket flows already, so this changes nothing of it.
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    const link = new Link(socket, upstream);
    links.set(link, nothing);
    void link.gone.then(() => {
      links.get(link)?.();
      links.delete(link);
    });
    if (current) links.set(link, current.unit.attach(link));
  };

  // A fresh server per listen: a closed net.Server may still be draining the previous one's sockets.
  const listen = async () => {
    const next = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(port, options.host, () => {
          next.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      throw new EnvironmentError(`the fault proxy could not listen on ${options.host}:${port}: ${errorMessage(error)}`);
    }
    // Accept errors (EMFILE) are not fatal: the next connection may succeed.
    next.on('error', nothing);
    port = (next.address() as AddressInfo).port;
    if (stopped) next.close();
    else server = next;
  };

  const unlisten = () => {
    // net.Server.close() closes the listening socket at once: new connections are refused from here.
    server?.close();
    server = undefined;
  };

  const apply = async (toxic: Toxic | undefined) => {
    if (stopped) throw new EnvironmentError('the fault proxy is stopped');
    const unit = toxic && toxicUnit(toxic);
    const listens = unit?.listens ?? true;
    if (isDeepStrictEqual(current?.toxic, toxic) && listens === (server !== undefined)) return;
    for (const [link, undo] of links) {
      links.set(link, nothing);
      undo();
    }
    current = toxic && unit && { toxic: structuredClone(toxic), unit };
    // Toxiproxy's stop() order: no new connections first, then the open ones.
    if (!listens) unlisten();
    else if (!server) await listen();
    if (unit) for (const link of links.keys()) links.set(link, unit.attach(link));
  };

  await listen();

  return {
    get port() {
      return port;
    },
    setToxic(toxic) {
      const applied = applying.then(() => apply(toxic));
      applying = applied.catch(nothing);
      return applied;
    },
    toxic: () => current && structuredClone(current.toxic),
    setUpstream(next) {
      const applied = applying.then(async () => {
        if (stopped) throw new EnvironmentError('the fault proxy is stopped');
        upstream = { ...next };
        for (const link of links.keys()) link.destroy();
      });
      applying = applied.catch(nothing);
      return applied;
    },
    upstream: () => ({ ...upstream }),
    stats: () => ({ connections: links.size, accepted, received, listening: server !== undefined, toxic: current && structuredClone(current.toxic) }),
    async stop() {
      if (stopped) return;
      stopped = true;
      const closing = server;
      server = undefined;
      const closed = closing ? new Promise<void>((resolve) => closing.close(() => resolve())) : undefined;
      for (const link of links.keys()) link.destroy();
      await settleWithin(Promise.all([closed, ...[...links.keys()].map((link) => link.gone)]), STOP_TIMEOUT_MS, undefined);
    },
  };
}
