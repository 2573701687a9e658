import { downUnit } from './down.js';
import { latencyUnit } from './latency.js';
import type { Link } from './link.js';
import { resetPeerUnit } from './reset-peer.js';
import { timeoutUnit } from './timeout.js';
import type { Toxic } from './toxics.js';

/**
 * What a toxic does, in the terms the proxy core knows: whether the proxy listens while it is
 * set, and what it does to each connection. The core never asks which toxic it runs
 * (Toxiproxy's toxics/*.go shape: one small unit per fault).
 */
export interface ToxicUnit {
  /** False: the proxy closes its listening socket while this toxic is set (Toxiproxy's disabled proxy). */
  readonly listens: boolean;
  /**
   * Starts affecting one connection: each open one when the toxic is set, each new one while it
   * is. Returns what undoes it, called when the toxic is removed or the connection is gone.
   */
  attach(link: Link): () => void;
}

type UnitFactories = { [K in Toxic['type']]: (toxic: Extract<Toxic, { type: K }>) => ToxicUnit };

const factories: UnitFactories = {
  latency: latencyUnit,
  timeout: timeoutUnit,
  reset_peer: resetPeerUnit,
  down: downUnit,
};

export function toxicUnit(toxic: Toxic): ToxicUnit {
  return (factories[toxic.type] as (toxic: Toxic) => ToxicUnit)(toxic);
}
