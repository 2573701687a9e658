import net from 'node:net';
import { EnvironmentError } from './errors.js';

/**
 * Asks the kernel for `count` distinct free TCP ports on the host, holding each until all are
 * found so that one call never hands out the same port twice. Another process may still take a
 * port before the server meant for it binds; that start then fails and says so.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      servers.push(
        await new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.unref();
          server.once('error', (error) => reject(new EnvironmentError(`could not find a free port on ${host}: ${error.message}`)));
          server.listen(0, host, () => resolve(server));
        }),
      );
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** Fails early, naming the flag, when a port the user asked for is taken. */
export async function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new EnvironmentError(`${what}: cannot listen on ${host}:${port} (${error.code}); choose another port, or leave it out to use a free one`)),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts(1, host))[0]!;
}

/** True once something accepts TCP connections on host:port. */
export async function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
