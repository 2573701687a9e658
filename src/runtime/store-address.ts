import { EnvironmentError } from '../platform/errors.js';
import type { StoreNode } from '../stores/store.js';

/** A store's connection URL with another host and port: the same server, reached through a proxy. */
export function withAddress(url: string, host: string, port: number): string {
  const parsed = new URL(url);
  parsed.host = `${host}:${port}`;
  return parsed.toString();
}

/**
 * A node's address, for what needs one (a fault proxy in front of it): a node whose address
 * hactl does not know gets a clear error, not a proxy aimed at nothing.
 */
export function knownAddress(node: Pick<StoreNode, 'id' | 'address'>): { host: string; port: number; url: string } {
  if (!node.address.known) throw new EnvironmentError(`hactl does not know where store node ${node.id} listens (${node.address.why})`);
  return node.address;
}
