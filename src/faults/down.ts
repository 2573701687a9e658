import type { ToxicUnit } from './units.js';

/**
 * Toxiproxy's disabled proxy (proxy.go stop()): the listening socket is closed, so new
 * connections are refused, and open connections are closed. Removing it listens again on the
 * same port; the closed connections stay closed.
 */
export function downUnit(): ToxicUnit {
  return {
    listens: false,
    attach(link) {
      link.close();
      return () => undefined;
    },
  };
}
