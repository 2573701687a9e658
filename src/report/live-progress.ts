import type { RunActivity, RunEvent } from './events.js';
import { percent } from './cells.js';
import { lineProgress } from './progress.js';

const REDRAW_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * Progress on a terminal: the same lines as in a CI log, with one status line under them that
 * redraws in place: strategy × scenario, phase, requests done, current hit rate. The status
 * line goes away when the run ends, before the table is printed.
 */
export function liveProgress(stream: NodeJS.WritableStream & { columns?: number }, signal?: AbortSignal) {
  let status = '';
  let activity: RunActivity | undefined;
  const started = Date.now();
  const draw = () => {
    if (!activity) return;
    const elapsed = ((Date.now() - started) / 1000).toFixed(0);
    const hitRate = activity.answeredReads === 0 ? '—' : percent(activity.hits / activity.answeredReads);
    const line = `hactl: ${activity.strategy} × ${activity.scenario} · ${activity.phase} · ${activity.requests.toLocaleString('en')} requests · hit rate ${hitRate} · ${elapsed} s`;
    // Never wider than the terminal: a wrapped status line cannot be redrawn in place.
    status = line.slice(0, Math.max(20, (stream.columns || Number(process.env.COLUMNS) || 120) - 1));
    stream.write(`${CLEAR_LINE}${status}`);
  };
  // Finished lines go above the status line: clear it, write the line, draw it again.
  const lines = lineProgress({
    write: (text: string) => {
      stream.write(`${status ? CLEAR_LINE : ''}${text}`);
      if (status) stream.write(status);
    },
  });
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  // Once the run is stopping, the lines of its teardown follow one another plainly: a status line
  // still redrawn under them would cut into each (the Ctrl-C line first, written as the abort ends).
  signal?.addEventListener('abort', () => {
    clearInterval(timer);
    activity = undefined;
    if (status) stream.write(CLEAR_LINE);
    status = '';
  }, { once: true });
  return {
    onEvent(event: RunEvent) {
      if (event.type === 'row') activity = undefined;
      if (event.type === 'row' && status) {
        stream.write(CLEAR_LINE);
        status = '';
      }
      lines(event);
    },
    onActivity(next: RunActivity) {
      activity = next;
    },
    stop() {
      clearInterval(timer);
      if (status) stream.write(CLEAR_LINE);
      status = '';
    },
  };
}
