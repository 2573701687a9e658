import os from 'node:os';

/**
 * Exit codes, in one place (k6's errext/exitcodes, knip's known errors):
 *   0   the run finished (rows may be skipped; skipped is not failure)
 *   2   usage or configuration error: a flag, a scenario file, an --out path
 *   3   environment error: a store, port or process that could not be had, or a row that failed
 *   70  internal error: a bug in hactl (EX_SOFTWARE)
 *   128 + n  stopped by signal n after tearing everything down: 129 SIGHUP, 130 SIGINT (Ctrl-C),
 *       131 SIGQUIT, 143 SIGTERM
 * Exit code 1 is kept for failed expectations (CI mode).
 */
export const ExitCode = {
  ok: 0,
  expectationFailed: 1,
  usage: 2,
  environment: 3,
  internal: 70,
} as const;

/** An error the user can fix; printed as one line, without a stack trace unless --debug. */
export class HactlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, scenario files or paths. */
export class UsageError extends HactlError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** Something the machine could not provide: a port, a store, a process that would not start. */
export class EnvironmentError extends HactlError {
  constructor(message: string) {
    super(message, ExitCode.environment);
  }
}

/** A store that was killed on purpose and did not come back: the strategy's later scenarios cannot run. */
export class StoreLostError extends EnvironmentError {}

/** A store strategy's app never wrote to its store: the row would measure something else under the store's name. */
export class StoreUnusedError extends EnvironmentError {}

/** The run was stopped by a signal; teardown has happened by the time this surfaces. */
export class InterruptedError extends HactlError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, 128 + (os.constants.signals[signal] ?? 0));
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
