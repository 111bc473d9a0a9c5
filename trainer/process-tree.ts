// A child's whole process tree, from /proc (Linux): what it holds in memory and how to stop
// all of it. A candidate's grandchildren count against its memory cap, and none outlives a kill.
import { existsSync, readdirSync, readFileSync, readlinkSync, statfsSync, statSync } from 'node:fs';

/** pid -> parent pid of every process visible in /proc. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ")" ends it
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number.isInteger(ppid)) out.set(Number(n), ppid);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Children of a process from /proc/<pid>/task/<tid>/children (Linux 3.5+ with
 * CONFIG_PROC_CHILDREN); null when the kernel has no such file. */
function childrenOf(pid: number): number[] | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone
  }
  const out: number[] = [];
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(`/proc/${pid}/task/${t}`)) return null;
    }
  }
  return out;
}

/** The process and all its descendants that are still alive (the root first): through each
 * process's children files, which costs a few reads per process of the tree, else (no such
 * files) from the parent of every process on the machine. */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const kids = childrenOf(pid);
    if (kids === null) return processTreeByScan(root);
    out.push(pid);
    queue.push(...kids);
  }
  return out;
}

function processTreeByScan(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) {
    const list = byParent.get(ppid);
    if (list) list.push(pid);
    else byParent.set(ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    queue.push(...(byParent.get(pid) ?? []));
  }
  return out;
}

/** Resident set size of one process in MiB; null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Resident set and page tables of one process in MiB; null when it is gone. Page tables are
 * kernel memory no resident set holds: a private mapping of 1 TB read one byte every 2 MiB maps
 * only the shared zero page (10 MB resident) and needs 2 GB of them (session 18).
 */
export function residentMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    if (!rss) return null;
    const pte = /VmPTE:\s+(\d+)\s+kB/.exec(status);
    return (Number(rss[1]) + (pte ? Number(pte[1]) : 0)) / 1024;
  } catch {
    return null;
  }
}

/** Shared mappings of an anonymous memory object: shared anonymous memory (and shared maps of
 * /dev/zero), named or not, SysV segments, memfds. */
const ANON_SHARED = /^(\/dev\/zero|\/SYSV|\/memfd:|\[anon_shmem)/;

/** MiB of the anonymous memory objects a process maps (each object once, by device and inode,
 * in `seen`): such a page counts in the resident set only of a process that touched it, so a
 * process that maps memory a child wrote (and exited) holds it with almost no resident set.
 * Where this process may follow /proc/<pid>/map_files (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE:
 * a root supervisor), the whole object's allocated blocks, so a mapping cut down to one page
 * still counts what the object keeps; otherwise the mapping's size, which that trick evades.
 * 0 when the process is gone. */
export function anonSharedMb(pid: number, seen: Set<string>): number {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return 0;
  }
  let bytes = 0;
  for (const line of maps.split('\n')) {
    // "start-end perms offset dev inode path": shared when perms end in "s"
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S{3}s \S+ \S+ \S+\s+(.*)$/.exec(line);
    if (!m || !ANON_SHARED.test(m[3])) continue;
    try {
      const st = statSync(`/proc/${pid}/map_files/${m[1]}-${m[2]}`);
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      bytes += st.blocks * 512;
    } catch {
      bytes += Number.parseInt(m[2], 16) - Number.parseInt(m[1], 16);
    }
  }
  return bytes / 2 ** 20;
}

/** Memory held by the memfds a process has open (each file once, by device and inode, in
 * `seen`), MiB: a memfd written through write(2) and never mapped is in no resident set. Its
 * allocated blocks, not its size (a sparse file holds nothing). */
export function memfdMb(pid: number, seen: Set<string>): number {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  let bytes = 0;
  for (const n of fds) {
    try {
      if (!readlinkSync(`/proc/${pid}/fd/${n}`).startsWith('/memfd:')) continue;
      const st = statSync(`/proc/${pid}/fd/${n}`);
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      bytes += st.blocks * 512;
    } catch {
      // closed meanwhile
    }
  }
  return bytes / 2 ** 20;
}

/** The host's network namespace: sockets there are the supervisor's and the runner's, not the child's. */
const HOST_NET = (() => {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return null;
  }
})();

/** What one socket may hold queued, bytes: twice the kernel's default send or receive buffer,
 * the larger (the sandbox's seccomp filter refuses raising them), for the data and its bookkeeping. */
export const SOCKET_CHARGE_BYTES = (() => {
  const read = (name: string) => {
    try {
      return Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim()) || 212992;
    } catch {
      return 212992;
    }
  };
  return 2 * Math.max(read('wmem_default'), read('rmem_default'));
})();

/**
 * MiB charged for the sockets of the network namespace a process lives in (each namespace once,
 * in `seen`), when it is not the host's: data queued in a socket is kernel memory in no resident
 * set, so every socket of the sandbox's namespace (its `sockets: used`, socket pairs included)
 * counts as SOCKET_CHARGE_BYTES. A descriptor limit bounds one process only: 8 processes of 1,024
 * descriptors held 1.7 GB in socket pairs with 56 MB resident (session 18). 0 in the host's
 * namespace (no sandbox: the container's cgroup counts it, or nothing is contained) or when gone.
 */
export function socketsMb(pid: number, seen: Set<string>): number {
  try {
    const ns = readlinkSync(`/proc/${pid}/ns/net`);
    if (ns === HOST_NET || seen.has(ns)) return 0;
    seen.add(ns);
    const m = /^sockets: used (\d+)/m.exec(readFileSync(`/proc/${pid}/net/sockstat`, 'utf8'));
    return m ? (Number(m[1]) * SOCKET_CHARGE_BYTES) / 2 ** 20 : 0;
  } catch {
    return 0;
  }
}

/** The host's mount namespace: its file systems are the runner's, not the child's. */
const HOST_MNT = (() => {
  try {
    return readlinkSync('/proc/self/ns/mnt');
  } catch {
    return null;
  }
})();

/** statfs(2)'s f_type of tmpfs */
const TMPFS_MAGIC = 0x01021994;
/** What a file of a tmpfs holds besides its data, bytes: its inode and dentry (a million empty
 * files with 200-character names held ~0.9 GB, session 18). */
export const TMPFS_INODE_BYTES = 1024;
/** The sandbox's own memory-backed file systems (trainer/sandbox.ts): bounded in size, not in files. */
const SANDBOX_TMPFS = ['/tmp', '/dev/shm'];

/**
 * MiB held by the memory-backed file systems of the mount namespace a process lives in (each
 * namespace once, in `seen`), when it is not the host's: the sandbox's `/tmp` and `/dev/shm`
 * (tmpfs), their data and their files. A file there is in no resident set, and bubblewrap caps
 * their size but not their number of files: empty files are inodes and dentries only, a million
 * of them ~0.9 GB (the default allows 3 million per mount). 0 in the host's namespace or when gone.
 */
export function tmpfsMb(pid: number, seen: Set<string>): number {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return 0;
  }
  if (ns === HOST_MNT || seen.has(ns)) return 0;
  seen.add(ns);
  let bytes = 0;
  for (const dir of SANDBOX_TMPFS) {
    try {
      const st = statfsSync(`/proc/${pid}/root${dir}`);
      if (st.type !== TMPFS_MAGIC) continue;
      bytes += (st.blocks - st.bfree) * st.bsize + (st.files - st.ffree) * TMPFS_INODE_BYTES;
    } catch {
      // gone, or not this process's to read
    }
  }
  return bytes / 2 ** 20;
}

/** Memory of the whole tree in MiB: each process's resident set and page tables, the anonymous memory objects it
 * maps (anonSharedMb) and the memfds it holds open (memfdMb), each object once; shared pages
 * counted once per process that touched them and once more as an object, so an over-estimate:
 * the cap errs on the safe side; and the sockets and memory-backed files of a sandbox (socketsMb,
 * tmpfsMb); null when the root is gone. (Other kernel memory, such as pipe buffers and epoll
 * watches, is not counted: that takes a cgroup; the kernel caps each per user.) */
export function treeRssMb(root: number): number | null {
  const own = residentMb(root);
  if (own === null) return null;
  const objects = new Set<string>();
  const nets = new Set<string>();
  const mounts = new Set<string>();
  const kernel = (pid: number) => socketsMb(pid, nets) + tmpfsMb(pid, mounts);
  let sum = own + anonSharedMb(root, objects) + memfdMb(root, objects) + kernel(root);
  for (const pid of processTree(root).slice(1)) sum += (residentMb(pid) ?? 0) + anonSharedMb(pid, objects) + memfdMb(pid, objects) + kernel(pid);
  return sum;
}

/**
 * SIGKILL the process and every descendant. The tree is first frozen (SIGSTOP) until no new
 * process appears, so that a fork bomb cannot outrun the walk and no child is orphaned (and
 * lost to the walk) by killing its parent first.
 */
export function killTree(root: number): number[] {
  const all = new Set<number>([root]);
  for (let round = 0; round < 50; round++) {
    const now = processTree(root).filter((p) => !all.has(p));
    if (now.length === 0 && round > 0) break;
    for (const pid of now) {
      all.add(pid);
      signal(pid, 'SIGSTOP');
    }
  }
  for (const pid of all) signal(pid, 'SIGKILL');
  signal(root, 'SIGKILL');
  return [...all];
}

/** Whether a process still holds what it had (its files, its locks): alive, or dying and not yet a zombie. */
function holding(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false; // gone
  }
}

/**
 * Resolves once every process of a killed tree has let go of what it held, or after `timeoutMs`.
 * A SIGKILL is only delivered; a process lets go of its files and locks as it exits, which a
 * driver can hold up (a GPU's teardown), and the next child must not start its candidate code
 * beside what is left of the last one.
 */
export async function released(pids: number[], timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (pids.some(holding) && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
