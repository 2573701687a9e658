// What makes a row's figures doubtful, as a scenario or the run finds it; the report says each
// beside its row (src/report/model.ts re-exports these).

/** Ids of row warnings: stable, for tools reading the JSON report. */
export const ROW_WARNING_IDS = ['fail-open', 'suspect-detection', 'failed-logins', 'no-hits', 'fault-not-observed', 'not-restored', 'replicas-seen', 'sessions-left', 'teardown-failed', 'unstable-health', 'sessions-unread', 'app-did-not-wait'] as const;
export type RowWarningId = (typeof ROW_WARNING_IDS)[number];

export interface RowWarning {
  id: RowWarningId;
  /** One line: what was seen and why it matters, with the evidence (a path probed, a status, counts). */
  message: string;
  /** The row's figures are not a valid measurement of the strategy. */
  invalid?: boolean;
}

