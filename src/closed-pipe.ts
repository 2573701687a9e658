/** Streams already made quiet, so that calling main() again adds no second listener. */
const quieted = new WeakSet<NodeJS.WritableStream>();

/**
 * A reader that goes away (`hactl run --help | head`, a CI log viewer closed) is no error of
 * hactl's: without a listener, Node throws EPIPE as an unhandled 'error' event, a stack trace
 * and exit 1. Instead, further writes to that stream are dropped and hactl carries on, so a run
 * in progress still stops everything it started and writes its --out files. Other stream errors
 * stay errors.
 */
export function quietOnClosedPipe(stream: NodeJS.WritableStream): void {
  if (quieted.has(stream)) return;
  quieted.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    // Writes that wait for their callback still get it, as if the reader had taken the bytes.
    stream.write = ((...args: unknown[]) => {
      const callback = args.findLast((arg) => typeof arg === 'function') as (() => void) | undefined;
      if (callback) queueMicrotask(callback);
      return true;
    }) as NodeJS.WritableStream['write'];
  });
}
