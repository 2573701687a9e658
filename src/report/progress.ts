import type { RunEvent } from './events.js';
import { oneLine, percent, warningLine } from './cells.js';
import { rowIsInvalid, shownStatus } from './model.js';

/** Plain, line-oriented progress for stderr: readable in a terminal and in CI logs alike. */
export function lineProgress(stream: { write(text: string): unknown }): (event: RunEvent) => void {
  const write = (line: string) => stream.write(`hactl: ${line}\n`);
  return (event) => {
    switch (event.type) {
      case 'run-start':
        write(`run ${event.runId}, seed ${event.seed}`);
        break;
      case 'notice':
        write(event.message);
        break;
      case 'store-ready':
        write(`${event.strategy}: store ready: ${event.description}`);
        break;
      case 'preflight-step':
        write(`${event.strategy}: pre-flight ${event.step.step}: ${event.step.ok ? 'ok' : 'FAILED'}: ${oneLine(event.step.detail)}${event.step.fix ? ` (fix: ${event.step.fix})` : ''}`);
        break;
      case 'scenario-start':
        // An external deployment is not started, only checked: its health path must answer before the scenario runs.
        write(`${event.strategy} × ${event.scenario}: ${event.checking !== undefined ? `checking ${event.checking}` : 'starting cluster'}`);
        break;
      case 'row': {
        const { row } = event;
        const m = row.metrics;
        const failed = m && m.failedLogins > 0 ? `, ${m.failedLogins}/${m.logins} logins failed` : '';
        const detail =
          row.status === 'ok' && m && !rowIsInvalid(row)
            ? `hit ${percent(m.hitRate)}, ${m.errors} errors${failed}${m.sessionLoss !== null ? `, session loss ${percent(m.sessionLoss)}` : ''}`
            : oneLine(row.reason ?? '');
        write(`${row.strategy} × ${row.scenario}: ${shownStatus(row)}${detail ? `: ${detail}` : ''}${row.durationMs !== undefined ? ` (${(row.durationMs / 1000).toFixed(1)} s)` : ''}`);
        // Said as the row ends, not only in the report: a CI log read from the top sees it there.
        for (const warning of row.warnings ?? []) write(warningLine(row, warning));
        break;
      }
    }
  };
}
