import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { settleWithin } from './time.js';

/**
 * Cleans up after hactl if it dies without tearing down (SIGKILL, an OOM kill): kills the process
 * groups it started and removes the directories it made. The parent-death signal reaches only a
 * direct child: a user's command runs under a shell, and what the shell started would outlive
 * hactl; and no exit handler runs after a SIGKILL, so the run's directory would stay behind. This
 * watcher reads what to guard on its standard input; when that pipe closes (hactl is gone, however
 * it went) it kills the groups left, then removes the directories left.
 *
 * Directories travel one to a line and are kept newline-separated, so that any path without a
 * newline (spaces included) arrives whole; `set -f` keeps the shell from globbing any of them.
 * Removal is tried a few times: processes of the run that die with hactl by their parent-death
 * signal may still be writing into the directory as the first try runs.
 */
const SCRIPT = `
set -f
nl='
'
groups=" "
dirs="$nl"
while IFS=' ' read -r op arg; do
  case "$op" in
    add) groups="$groups$arg " ;;
    del) groups=$(printf '%s' "$groups" | sed "s/ $arg / /") ;;
    add-dir) dirs="$dirs$arg$nl" ;;
    del-dir)
      case "$dirs" in
        *"$nl$arg$nl"*) dirs="\${dirs%%"$nl$arg$nl"*}$nl\${dirs#*"$nl$arg$nl"}" ;;
      esac ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
IFS="$nl"
for d in $dirs; do
  for try in 1 2 3 4 5; do
    rm -rf -- "$d" 2>/dev/null && [ ! -e "$d" ] && break
    sleep 0.2
  done
done
exit 0
`;

/** How long close() waits for the watcher: it has at most a few kills and removals to make. */
const CLOSE_WAIT_MS = 5_000;

export class GroupReaper {
  private child: ChildProcess | undefined;

  /** Guards a process group from now on. */
  add(pgid: number): void {
    this.write(`add ${pgid}\n`);
  }

  /** The group is gone: forget it, so that a later group with its number is left alone. */
  remove(pgid: number): void {
    if (this.child) this.write(`del ${pgid}\n`);
  }

  /** Removes the directory (and what is in it) if hactl dies before it does. */
  addDirectory(dir: string): void {
    const absolute = path.resolve(dir);
    // A path the watcher cannot read as one line would reach it as two other paths.
    if (absolute.includes('\n')) return;
    this.write(`add-dir ${absolute}\n`);
  }

  /** hactl removed the directory itself: a later one of the same name is left alone. */
  forgetDirectory(dir: string): void {
    if (this.child) this.write(`del-dir ${path.resolve(dir)}\n`);
  }

  /**
   * Nothing left for hactl to guard: the watcher exits, after dealing with whatever is still
   * guarded as if hactl had died. Resolves once it has, so that hactl does not exit before it.
   */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    // Referenced while we wait: with nothing else to do, Node would otherwise exit mid-await.
    child.ref();
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
    child.stdin?.end();
    await settleWithin(exited.catch(() => undefined), CLOSE_WAIT_MS, undefined);
    child.unref();
  }

  private write(line: string): void {
    if (!this.child) {
      // Detached, so that a Ctrl-C meant for hactl does not stop the watcher too; unref'd, so
      // that it does not keep hactl alive.
      this.child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      this.child.on('error', () => {});
      this.child.stdin!.on('error', () => {});
      this.child.unref();
      (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    }
    this.child.stdin!.write(line);
  }
}
