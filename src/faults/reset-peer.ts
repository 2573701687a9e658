import type { ToxicUnit } from './units.js';

/**
 * Toxiproxy's reset_peer (toxics/reset_peer.go): connections end in a TCP RST, at once or
 * timeoutMs after the toxic meets them; new connections too while it is set. Data passes until
 * then. Toxiproxy starts the clock at the first chunk of data on its stream; this one starts it
 * when the toxic is set (or the connection opens), so that idle pooled connections die as well:
 * a store that resets its peers does not wait for them to speak.
 * Removing it spares the connections not yet reset.
 */
export function resetPeerUnit(toxic: { timeoutMs?: number }): ToxicUnit {
  const timeoutMs = toxic.timeoutMs ?? 0;
  return {
    listens: true,
    attach(link) {
      // At once means before any byte passes, not on the next turn of the event loop.
      if (timeoutMs === 0) {
        link.reset();
        return () => undefined;
      }
      const timer = setTimeout(() => link.reset(), timeoutMs);
      return () => clearTimeout(timer);
    },
  };
}
