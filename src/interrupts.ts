import { InterruptedError } from './platform/errors.js';

/** Signals that end a run early: hactl tears everything down, then exits 128 + the signal number. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

export interface Interrupts {
  /** Aborted, with an InterruptedError as reason, on the first stop signal. */
  signal: AbortSignal;
  interruptedBy(): NodeJS.Signals | undefined;
  dispose(): void;
}

/**
 * Turns stop signals into an abort, so that every wait in the run unwinds through its `finally`
 * blocks and tears down what it started. Teardown has `deadlineMs`; a second signal, or the
 * deadline, exits at once, and the runtime's exit handler SIGKILLs whatever is still tracked.
 */
export function trapInterrupts(stderr: NodeJS.WritableStream, deadlineMs: number): Interrupts {
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const exitCode = new InterruptedError(signal).exitCode;
    if (interruptedBy) process.exit(exitCode);
    interruptedBy = signal;
    setTimeout(() => process.exit(exitCode), deadlineMs).unref();
    // Aborted first: a live status line on the terminal clears itself then, and this line is not written into it.
    controller.abort(new InterruptedError(signal));
    stderr.write(`hactl: ${signal} received, stopping everything hactl started...\n`);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    interruptedBy: () => interruptedBy,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}
