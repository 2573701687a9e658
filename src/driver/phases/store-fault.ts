import { z } from 'zod';
import { EnvironmentError } from '../../platform/errors.js';
import { TOXIC_SCHEMA, type Toxic } from '../../faults/toxics.js';
import { chooseNode, choiceIn, NODE_CHOICE_FIELDS, nodeTarget, ONE_CHOICE } from '../../stores/node-choice.js';
import type { FaultBase } from '../records.js';
import { sleep } from '../../platform/time.js';
import { definePhase } from '../phase.js';
import { readWhile } from './read.js';

/** A toxic on every connection between replicas and store, from `at` (asked) or `appliedAt` (in effect) to endAt (removal asked). */
export interface StoreToxicFault extends FaultBase {
  kind: `store-${Toxic['type']}`;
  /** When the toxic took effect, later than when it was asked for (the proxy applies it). */
  appliedAt?: number;
  detail: Toxic & { durationMs: number };
}

/**
 * How long putting the toxic on may take, beside its duration: the proxy is asked over HTTP (in a
 * container, on Docker, which a loaded machine may stall for seconds). Past it the fault is cut
 * short and removed, and the phase fails.
 */
const APPLY_TOXIC_MS = 30_000;

export const storeFault = definePhase({
  kind: 'store-fault',
  description:
    'puts a toxic (latency, timeout, reset_peer, down) on every connection between replicas and a node of the store (the primary unless node: or role: names another) for a while; users keep reading',
  needsStore: true,
  storeNode: (options) => choiceIn(options),
  needsStoreProxy: true,
  ownSessionReads: true,
  options: z
    .strictObject({
      ...NODE_CHOICE_FIELDS,
      toxic: TOXIC_SCHEMA,
      durationMs: z.number().int().min(1).max(300_000),
    })
    .refine(...ONE_CHOICE),
  async run(context, options) {
    const faults = context.storeFaults;
    if (!faults) throw new EnvironmentError(`phase ${context.phase}: no fault proxy stands between the replicas and the store`);
    // The run put the scenario's one fault proxy in front of this node (checked at load).
    const node = context.store ? chooseNode(context.store.name, context.store.nodes, choiceIn(options)) : undefined;
    if (typeof node === 'string') throw new EnvironmentError(`phase ${context.phase}: ${node}`);
    const target = context.store && node ? nodeTarget(context.store, node) : 'store';
    const fault: StoreToxicFault = { kind: `store-${options.toxic.type}`, target, at: context.now(), detail: { ...options.toxic, durationMs: options.durationMs } };
    context.faults.push(fault);
    const undone = async (signal: AbortSignal) => {
      try {
        await faults.setToxic(options.toxic);
        // Asked for at `at`, in effect from here: a read sent while the proxy (a container, on
        // Docker) was still applying it reached a healthy store, and must not count as served
        // without one. Reads already in flight are the fault's all the same (a hang catches them).
        fault.appliedAt = context.now();
        await sleep(options.durationMs, undefined, { signal });
      } finally {
        // The fault ends when hactl asks for its removal: an answer after that is not one the
        // fault could have served. Removed even when the run is being torn down, or when setting
        // it failed half-way (the proxy may have applied it before its answer was lost).
        fault.endAt = context.now();
        await faults.setToxic(undefined);
      }
    };
    await readWhile(context, undone, options.durationMs + APPLY_TOXIC_MS);
  },
});
