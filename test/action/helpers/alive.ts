import { readFileSync } from 'node:fs';

/** Whether a process runs (a zombie, or one being reaped, counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^[ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '');
  } catch {
    return false;
  }
}
