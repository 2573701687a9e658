import os from 'node:os';

/**
 * The hactl process that made a container or network (`<host>/<pid>`): a later run on the same
 * machine tells by it whether a run's leftovers still have a living owner.
 */
export const OWNER_LABEL = 'io.hactl.owner';

export function owner(): string {
  return `${os.hostname()}/${process.pid}`;
}

/** Whether the process an owner label names is known to be gone: only on this machine can hactl tell. */
export function ownerGone(label: string | undefined, host = os.hostname()): boolean {
  const match = label === undefined ? null : /^(.*)\/(\d+)$/.exec(label);
  if (!match || match[1] !== host) return false;
  try {
    process.kill(Number(match[2]), 0);
    return false;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
