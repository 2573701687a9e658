import { errorMessage } from '../platform/errors.js';
import type { DrainResult, RunningProxy } from './proxy.js';

/**
 * Deregistration and registration sent to a balancer on another thread; each command is answered
 * by exactly one reply carrying its requestId.
 */
export type ControlCommand =
  | { type: 'deregister'; requestId: number; targetId: string }
  | { type: 'register'; requestId: number; targetId: string };

export type ControlReply =
  | { type: 'reply'; requestId: number; ok: true; result?: DrainResult }
  | { type: 'reply'; requestId: number; ok: false; error: string };

export function isControlCommand(message: { type: string }): message is ControlCommand {
  return message.type === 'deregister' || message.type === 'register';
}

/** Runs one command against the proxy; a failure becomes a reply, never a rejection. */
export async function runCommand(proxy: RunningProxy, command: ControlCommand): Promise<ControlReply> {
  try {
    const result = command.type === 'deregister' ? await proxy.deregister(command.targetId) : (await proxy.register(command.targetId), undefined);
    return { type: 'reply', requestId: command.requestId, ok: true, result };
  } catch (error) {
    return { type: 'reply', requestId: command.requestId, ok: false, error: errorMessage(error) };
  }
}

/**
 * How long a caller waits for a deregistration at worst: the balancer itself gives up after the
 * deregistration delay, so anything past it plus this margin means the balancer is stuck.
 */
export const CONTROL_MARGIN_MS = 5_000;
