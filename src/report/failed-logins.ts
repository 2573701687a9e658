import type { LoginRecord } from '../driver/records.js';
import { oneLine } from './cells.js';
import type { RowWarning } from './model.js';

/** The start of the failed login's body quoted in the warning: enough to see what the app said. */
const QUOTED = 120;

/**
 * The `failed-logins` warning of a row, or undefined when every login worked. When more than half
 * failed, the row's figures say more about the login than about the strategy: it is invalid.
 */
export function failedLoginsWarning(logins: readonly LoginRecord[]): RowWarning | undefined {
  const failed = logins.filter((login) => login.failure !== undefined);
  if (failed.length === 0) return undefined;
  const first = failed[0]!;
  const body = first.body !== undefined && first.body.trim() !== '' ? `: "${quote(first.body)}"` : '';
  const invalid = mostFailed(logins);
  const what = `${failed.length}/${logins.length} logins failed (first: ${first.failure}${body})`;
  return {
    id: 'failed-logins',
    message: invalid
      ? `${what}: most users never had a session, so the row measures the login, not the session strategy (check the profile's login request, CSRF token and cookie name)`
      : `${what}: those users never had a session, so their reads count in neither hit rate nor session loss`,
    ...(invalid ? { invalid: true } : {}),
  };
}

/** More than half of the logins failed. */
function mostFailed(logins: readonly LoginRecord[]): boolean {
  const failed = logins.filter((login) => login.failure !== undefined).length;
  return failed > 0 && failed * 2 > logins.length;
}

function quote(body: string): string {
  const line = oneLine(body);
  return line.length > QUOTED ? `${line.slice(0, QUOTED)}…` : line;
}
