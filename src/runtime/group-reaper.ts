import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Kills process groups hactl started if hactl dies without tearing them down (SIGKILL, an OOM
 * kill). The parent-death signal reaches only a direct child: a user's command runs under a shell,
 * and what the shell started would outlive hactl. This watcher reads the groups to guard on its
 * standard input; when that pipe closes (hactl is gone, however it went) it kills the groups left.
 */
const SCRIPT = `
set -f
groups=" "
while IFS=' ' read -r op g; do
  case "$op" in
    add) groups="$groups$g " ;;
    del) groups=$(printf '%s' "$groups" | sed "s/ $g / /") ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
exit 0
`;

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

  /** No groups left to guard: the watcher exits. */
  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
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
