import dns from 'node:dns';
import net from 'node:net';

const RESOLVE_TIMEOUT_MS = 300;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * Target host names resolved off the connection path. A balancer in front of containers reaches
 * them by name; once a container is gone, a system lookup of its name can hang for many seconds
 * (Docker's DNS forwards the unknown name upstream) and, on libuv's small thread pool, stall
 * connections to healthy targets too. So names are resolved with c-ares, bounded, before each
 * health check, and connections use the last address that resolved.
 */
export class TargetAddresses {
  private readonly resolved = new Map<string, string>();
  private readonly resolver = new dns.promises.Resolver({ timeout: RESOLVE_TIMEOUT_MS, tries: 1 });

  /** Resolves `host` again; false if it cannot be resolved now (the target then fails its check). */
  async refresh(host: string): Promise<boolean> {
    if (net.isIP(host) || host === 'localhost') return true;
    try {
      const [address] = await this.resolver.resolve4(host);
      if (address) this.resolved.set(host, address);
      return address !== undefined;
    } catch {
      return false;
    }
  }

  /** A `lookup` for net.connect that answers from the cache and never blocks. */
  readonly lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    const address = net.isIP(hostname) ? hostname : hostname === 'localhost' ? '127.0.0.1' : this.resolved.get(hostname);
    if (address === undefined) {
      const error: NodeJS.ErrnoException = new Error(`${hostname} has not resolved`);
      error.code = 'ENOTFOUND';
      return void process.nextTick(() => callback(error, ''));
    }
    const family = net.isIP(address);
    process.nextTick(() => (options.all ? callback(null, [{ address, family }]) : callback(null, address, family)));
  };
}
