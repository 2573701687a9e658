// CPU time of another process, for benchmarks that share two cores between a client and its
// target: what each side spends per request, apart from how busy the machine is.
import { readFileSync } from 'node:fs';

// sysconf(_SC_CLK_TCK): 100 on every Linux this runs on.
const CLOCK_TICKS = 100;

/** CPU seconds a process has used so far (user + system), from /proc; 0 where there is no /proc. */
export function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), counted from the state field (3) here.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
