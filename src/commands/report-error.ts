import { errorMessage, ExitCode, HactlError } from '../errors.js';

/** A user's mistake or the machine's: one line and its exit code. A bug: say so, and how to see its stack. */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof HactlError) {
    process.stderr.write(`hactl: ${debug && error.stack ? error.stack : error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`hactl: internal error: ${debug && error instanceof Error ? error.stack : errorMessage(error)}\n`);
  if (!debug) process.stderr.write('hactl: run again with --debug for the stack trace, and please report it\n');
  return ExitCode.internal;
}
