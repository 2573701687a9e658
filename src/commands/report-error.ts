import { errorMessage, ExitCode, HactlError } from '../platform/errors.js';

/**
 * A user's mistake or the machine's: one line (a line per problem, for a file with several) and
 * its exit code. A bug: say so, and how to see its stack.
 */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof HactlError) {
    // Every problem line carries the prefix, so a CI log filtered on "hactl:" keeps them all.
    const text = debug && error.stack ? error.stack : error.message.split('\n').join('\nhactl: ');
    process.stderr.write(`hactl: ${text}\n`);
    return error.exitCode;
  }
  process.stderr.write(`hactl: internal error: ${debug && error instanceof Error ? error.stack : errorMessage(error)}\n`);
  if (!debug) process.stderr.write('hactl: run again with --debug for the stack trace, and please report it\n');
  return ExitCode.internal;
}
