import { DIRECTIONS, type Outlet, type Stage } from './link.js';
import type { ToxicUnit } from './units.js';

/**
 * Toxiproxy's timeout (toxics/timeout.go): data is dropped on the floor and the connection is
 * closed timeoutMs after the toxic meets it; 0 keeps it open, silent, until the toxic goes.
 * Both directions, not just Toxiproxy's default downstream: a store that cannot be reached does
 * not receive commands either, so nothing is half-done behind the client's back.
 * Removing it closes the connections that lost data, as Toxiproxy's Cleanup closes them all:
 * a request/response protocol that lost bytes is out of step (the next answer would be matched
 * to the wrong request). Connections that lost nothing carry on.
 */
export function timeoutUnit(toxic: { timeoutMs: number }): ToxicUnit {
  return {
    listens: true,
    attach(link) {
      let dropped = false;
      const drop = (outlet: Outlet): Stage => ({
        write: () => {
          dropped = true;
        },
        end: () => outlet.end(),
      });
      for (const direction of DIRECTIONS) link.route(direction, drop);
      const timer = toxic.timeoutMs > 0 ? setTimeout(() => link.close(), toxic.timeoutMs) : undefined;
      return () => {
        clearTimeout(timer);
        for (const direction of DIRECTIONS) link.route(direction, undefined);
        if (dropped) link.close();
      };
    },
  };
}
