/** A store's connection URL with another host and port: the same server, reached through a proxy. */
export function withAddress(url: string, host: string, port: number): string {
  const parsed = new URL(url);
  parsed.host = `${host}:${port}`;
  return parsed.toString();
}

/** The host and port a store URL points at (redis://, postgres://, mongodb://). */
export function addressOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (!parsed.hostname || !parsed.port) throw new Error(`store URL ${url} names no host and port`);
  return { host: parsed.hostname, port: Number(parsed.port) };
}
