/**
 * How an app is told to find its Redis through Sentinel, in the one store URL hactl hands replicas:
 * `redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/hactl` (the Sentinels, then the
 * name they monitor the primary under). An optional `?map=from>to,...` maps an address Sentinel
 * gives out to the one to connect to (node-redis's nodeAddressMap): hactl's Sentinels know the nodes
 * by their replication links, which a client must not go through. A WHATWG URL cannot hold several
 * hosts, hence a parser of its own.
 */
export interface SentinelUrl {
  sentinels: Array<{ host: string; port: number }>;
  masterName: string;
  /** `host:port` as Sentinel says it, to `host:port` to connect to. */
  map: Record<string, { host: string; port: number }>;
}

export const SENTINEL_URL_SCHEME = 'redis-sentinel:';

export function isSentinelUrl(url: string | undefined): boolean {
  return url?.startsWith(`${SENTINEL_URL_SCHEME}//`) === true;
}

export function formatSentinelUrl(url: SentinelUrl): string {
  const map = Object.entries(url.map).map(([from, to]) => `${from}>${to.host}:${to.port}`);
  return `${SENTINEL_URL_SCHEME}//${url.sentinels.map(({ host, port }) => `${host}:${port}`).join(',')}/${encodeURIComponent(url.masterName)}${map.length > 0 ? `?map=${map.join(',')}` : ''}`;
}

/** The URL's parts; throws one line naming what is wrong and what is expected. */
export function parseSentinelUrl(url: string): SentinelUrl {
  const expected = `expected ${SENTINEL_URL_SCHEME}//host:port[,host:port...]/master-name[?map=host:port>host:port,...]`;
  const match = /^redis-sentinel:\/\/([^/?#]+)\/([^/?#]+)(?:\?map=([^#]*))?$/.exec(url);
  if (!match) throw new Error(`a Sentinel URL: ${expected}, got "${url}"`);
  const sentinels = match[1]!.split(',').map((address) => hostPort(address, url, expected));
  const map: SentinelUrl['map'] = {};
  for (const pair of match[3] ? match[3].split(',') : []) {
    const [from, to, extra] = pair.split('>');
    if (from === undefined || to === undefined || extra !== undefined) throw new Error(`a Sentinel URL's map entry "${pair}": ${expected}`);
    const source = hostPort(from, url, expected);
    map[`${source.host}:${source.port}`] = hostPort(to, url, expected);
  }
  return { sentinels, masterName: decodeURIComponent(match[2]!), map };
}

function hostPort(address: string, url: string, expected: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`a Sentinel URL's address "${address}" is not host:port (${expected}, got "${url}")`);
  return { host, port };
}
