// CPU time a process under benchmark has used (user + system), from /proc/<pid>/stat: what a DaemonSet's
// CPU limit would throttle, read the same way for the Go and the Node processes.
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on every architecture Node runs on). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds of `pid` so far. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}
