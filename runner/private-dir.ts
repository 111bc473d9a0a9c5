// Whether a directory `runner join` keeps its runner in is the volunteer's alone. The cache holds
// the verified runner (trusted afterwards by its marker file) and each job's copy of it, started as
// the volunteer with the runner's JIT config: a user who can write the directory, or rename it
// (write on an ancestor, or owning one), plants his own run.sh there. OpenSSH's StrictModes rule:
// each directory from the root down is owned by the volunteer or root and writable by no one
// else; an ancestor with the sticky bit (/tmp) may be writable, as others cannot rename what is
// not theirs; group write is fine for a private group (the volunteer its only member).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';

/** What makes `dir` (an existing directory) open to other local users, or null. `what` names it in the message. */
export function privateDirProblem(dir: string, what: string): string | null {
  const uid = process.getuid?.();
  if (uid === undefined) return null; // not POSIX
  const elsewhere = 'pass --cache-dir <a directory only you can write> (the default is ~/.cache/autoresearch-swarm)';
  const real = realpathSync(dir);
  for (let p = real; ; p = dirname(p)) {
    const st = statSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    const where = p === real ? `${what} ${dir}` : `${what} ${dir} is inside ${p}, which`;
    if (st.uid !== uid && st.uid !== 0) {
      return `${where} belongs to another user (uid ${st.uid}), who could put a runner of their own in it: ${elsewhere}.`;
    }
    const sticky = p !== real && (st.mode & 0o1000) !== 0;
    const othersWrite = (st.mode & 0o002) !== 0;
    const groupWrite = (st.mode & 0o020) !== 0 && !privateGroup(st.gid, uid);
    if ((othersWrite || groupWrite) && !sticky) {
      const can = p === real ? 'can be written by other users of this machine' : 'other users of this machine can write';
      return `${where} ${can} (mode ${mode}), so they could put a runner of their own in it: run \`chmod go-w ${p}\` if it is yours to change, or ${elsewhere}.`;
    }
    if (p === dirname(p)) return null;
  }
}

/** Whether `gid` is the volunteer's private group: its primary group, with no other member. */
function privateGroup(gid: number, uid: number): boolean {
  if (gid !== process.getgid?.()) return false;
  try {
    const me = userInfo().username;
    const group = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => Number(f[2]) === gid);
    if (!group || (group[3] ?? '').split(',').some((m) => m !== '' && m !== me)) return false;
    return !readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).some((f) => f.length > 3 && Number(f[3]) === gid && Number(f[2]) !== uid);
  } catch {
    return false;
  }
}
