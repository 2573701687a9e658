import net, { type Socket } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/** Toxiproxy's stream names: upstream is client → store, downstream is store → client. */
export type Direction = 'upstream' | 'downstream';
export const DIRECTIONS: readonly Direction[] = ['upstream', 'downstream'];

/** Where one direction's data goes once past its stage: the far socket, with back-pressure. */
export interface Outlet {
  write(chunk: Buffer): void;
  end(): void;
  /** Stops reading the near socket until every reason is released: a stage must not buffer without bound. */
  hold(reason: string): void;
  release(reason: string): void;
}

/** What a toxic puts in one direction's way, in place of passing data straight through. */
export interface Stage {
  write(chunk: Buffer): void;
  end(): void;
  /** The stage is being taken out: hand on what it holds and release its holds. */
  remove?(): void;
}

/** A dial to a store that is not there must not hang the client for the kernel's minutes. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A graceful close waits this long for the peers to finish before the sockets are destroyed. */
const CLOSE_GRACE_MS = 1_000;
const SINK = 'sink';

/** One direction of a link: reads its source, passes data through its stage to its sink. */
class Flow implements Outlet {
  private stage: Stage = this;
  private readonly holds = new Set<string>();
  private stopped = false;

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
  ) {
    source.on('data', (chunk: Buffer) => this.stage.write(chunk));
    source.on('end', () => this.stage.end());
  }

  route(make: ((outlet: Outlet) => Stage) | undefined): void {
    if (this.stopped) return;
    const previous = this.stage;
    // Pass-through while the previous stage hands on what it holds, so that order is kept.
    this.stage = this;
    previous.remove?.();
    if (make) this.stage = make(this);
  }

  /** For a closing link: what a stage still holds goes out before the end, nothing new follows. */
  stop(): void {
    this.route(undefined);
    this.stopped = true;
    this.stage = { write: () => undefined, end: () => undefined };
  }

  write(chunk: Buffer): void {
    if (this.sink.destroyed || this.sink.writableEnded) return;
    if (this.sink.write(chunk) || this.holds.has(SINK)) return;
    this.hold(SINK);
    this.sink.once('drain', () => this.release(SINK));
  }

  end(): void {
    if (!this.sink.destroyed && !this.sink.writableEnded) this.sink.end();
  }

  hold(reason: string): void {
    this.holds.add(reason);
    this.source.pause();
  }

  release(reason: string): void {
    this.holds.delete(reason);
    if (this.holds.size === 0 && !this.source.destroyed) this.source.resume();
  }
}

let nextId = 1;

/**
 * One proxied connection: the client's socket, a socket to the upstream, and a flow each way.
 * Half-closes pass through (both sockets allow half-open), and a reset on one side becomes a
 * reset on the other, so that the proxy is invisible when no toxic is set.
 */
export class Link {
  readonly id = nextId++;
  /** Resolves once both sockets are closed, whatever closed them. */
  readonly gone: Promise<void>;
  private readonly upstream: Socket;
  private readonly flows: Record<Direction, Flow>;
  private graceTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly client: Socket,
    target: Endpoint,
  ) {
    this.upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    client.setNoDelay(true);
    this.flows = { upstream: new Flow(client, this.upstream), downstream: new Flow(this.upstream, client) };
    this.upstream.setTimeout(CONNECT_TIMEOUT_MS, () => this.reset());
    this.upstream.once('connect', () => this.upstream.setTimeout(0));
    this.gone = Promise.all([closeOf(client, this.upstream), closeOf(this.upstream, client)]).then(() => clearTimeout(this.graceTimer));
  }

  /** Puts a stage in one direction's way; undefined restores pass-through. No-op once closing. */
  route(direction: Direction, make: ((outlet: Outlet) => Stage) | undefined): void {
    this.flows[direction].route(make);
  }

  /** Toxiproxy's reset_peer: RST both ways, discarding whatever is unsent. */
  reset(): void {
    this.closing = true;
    for (const socket of [this.client, this.upstream]) abort(socket);
  }

  /** Toxiproxy's stub.Close(): FIN both ways after what stages hold; destroyed if the peers linger. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    for (const direction of DIRECTIONS) this.flows[direction].stop();
    for (const socket of [this.client, this.upstream]) if (!socket.destroyed) socket.end();
    this.graceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
  }

  /** For stopping the proxy: no grace. */
  destroy(): void {
    this.closing = true;
    this.client.destroy();
    this.upstream.destroy();
  }
}

/** Resolves when `socket` closes; a socket that died of an error takes its partner with it as a reset. */
function closeOf(socket: Socket, partner: Socket): Promise<void> {
  // Errors surface as `close` with hadError; without a listener they would crash the process.
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    socket.once('close', (hadError) => {
      if (hadError) abort(partner);
      resolve();
    });
  });
}

function abort(socket: Socket): void {
  if (socket.destroyed) return;
  // A socket still dialling has nothing to reset; resetAndDestroy would wait for the connect.
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}
