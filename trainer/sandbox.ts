// The command line for one harness child in a namespace sandbox, for runners without Docker:
// bubblewrap (Debian/Ubuntu package `bubblewrap`, 0.8 or later) started through util-linux's
// prlimit and setpriv. Built like Flatpak's: the child starts from an empty root and gets only
// what it needs, at the same paths as on the host, so no path in a config needs translating:
//
// - read-only: /usr (and the merged-/usr links), node's own install, the harness source
//   (trainer/, package.json, tsconfig.json) and node_modules of the trusted checkout, the
//   child's input data; the Brown corpus hidden under an empty read-only tmpfs;
// - read-write: its one work dir, a small private /tmp (also its HOME) and a smaller /dev/shm;
//   the rest (the root and /dev, tmpfs of bubblewrap's) read-only; no descriptor of the host;
// - new user, mount, pid, network, ipc, uts and cgroup namespaces: no network but its own
//   loopback, no view of the host's processes (a fresh /proc), nothing of the parent's
//   environment (--clearenv, then an explicit list), no further user namespaces;
// - bubblewrap itself starts from an empty environment (env -i, then a fixed PATH): its pid 1 in
//   the sandbox keeps the environment it was started with, readable at /proc/1/environ, whatever
//   --clearenv does to its copy (the supervisor's HOME, PATH and every other variable, once);
// - a seccomp filter (x86_64 and arm64; bubblewrap's pid 1 gets it too) refuses the system calls
//   that make memory in no process's resident set and out of the supervisor's sight: SysV shared
//   memory, message queues and semaphores, and memfd_secret. Node itself makes none of these
//   calls, but a candidate reaches any system call through a binary (perl's syscall is in every
//   Debian's /usr; so would an ELF or a native addon written to /tmp). memfd_create stays (Mesa's
//   Vulkan drivers, so the WebGPU backend, allocate with it and have no fallback): the watch
//   counts memfds and shared anonymous memory instead (trainer/process-tree.ts). It refuses the
//   kernel keyrings too (add_key, request_key, keyctl): a key in the session keyring every child
//   inherits outlives the child, a store one child leaves for the next; and the calls that evict
//   pages of a shared file from the page cache, or tell its cached pages without reading them;
// - an unprivileged uid: the runner's own, or when the runner is root a dedicated uid per child;
// - a process and thread cap (RLIMIT_NPROC, counted per uid in the sandbox's user namespace);
//   the memory cap is enforced on the whole process tree by the supervisor's watch (child.ts),
//   as no cgroup can be assumed writable;
// - the whole tree dies with the child: bubblewrap's init is pid 1 of the sandbox and exits when
//   the worker does, which kills every process left in the namespace (a daemon included), and
//   --die-with-parent kills it if the supervisor or bubblewrap is killed first.
//
// This module only builds argv (and probes that the tools work): every property is checked by
// unit tests on the exact argv and by the attack tests in test/trainer/containment.test.ts.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { childEntry } from './runtime.js';
import { HIDDEN_PATHS, isCredentialEnv, NOFILE_LIMIT, PIDS_LIMIT, SOURCE_MOUNTS, TMPFS_MB } from './isolation.js';

/** the sandbox's /dev/shm, MiB (as Docker's default) */
const SHM_MB = 64;

export interface SandboxSpec {
  phase: 'train' | 'eval';
  /** the trusted checkout; SOURCE_MOUNTS and node_modules are mounted read-only at their paths */
  repoDir: string;
  /** the child's one writable directory, at its own path (none: only its private /tmp) */
  workDir?: string;
  /** more read-only paths at their own paths: input data, a candidate outside the checkout */
  readOnly: string[];
  /** processes and threads the child's uid may have (RLIMIT_NPROC) */
  pidsLimit: number;
  /** GPU device nodes to pass through (e.g. /dev/nvidia0, /dev/nvidiactl) */
  devices: string[];
  /** uid:gid to drop to before entering the sandbox (when the runner is root); null: stay */
  user: { uid: number; gid: number } | null;
  command: string[];
  env: Record<string, string>;
  /** the host's layout, from hostLayout() (an argument, so tests can pin it) */
  host: HostLayout;
}

export interface HostLayout {
  /** top-level directories that are symbolic links on merged-/usr systems: name -> target */
  links: Record<string, string>;
  /** top-level system directories that are real directories (mounted read-only) */
  dirs: string[];
  /** node's install prefix when it lives outside /usr (e.g. a tool cache), else null */
  nodePrefix: string | null;
  /** the checkout's node_modules, resolved (it is often a symbolic link) */
  nodeModules: string;
  /** process.arch: which seccomp filter (none for an architecture seccompFilter does not know) */
  arch: string;
  /** prlimit, setpriv and bwrap as found on the supervisor's PATH (the launch itself starts from
   * an empty environment, so it cannot look them up there) */
  tools: { prlimit: string; setpriv: string; bwrap: string };
}

const SYSTEM_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];
const SYSTEM_FILES = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/localtime'];
/** uids handed to sandboxed children when the runner is root: far above any login user. */
export const SANDBOX_UID_BASE = 2_000_000;
export const SANDBOX_UID_SPAN = 1_000_000;
export { NOFILE_LIMIT, PIDS_LIMIT };

/** What the sandbox must mirror of this host; cheap (a few lstat calls). */
export function hostLayout(repoDir: string, execPath = process.execPath): HostLayout {
  const links: Record<string, string> = {};
  const dirs: string[] = [];
  for (const d of SYSTEM_DIRS) {
    const p = `/${d}`;
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) links[p] = readlinkSync(p);
      else if (st.isDirectory()) dirs.push(p);
    } catch {
      // absent on this system
    }
  }
  const node = realpathSync(execPath);
  const prefix = dirname(dirname(node));
  return {
    links,
    dirs,
    nodePrefix: node.startsWith('/usr/') ? null : prefix,
    nodeModules: realpathSync(join(repoDir, 'node_modules')),
    arch: process.arch,
    tools: { prlimit: onPath('prlimit'), setpriv: onPath('setpriv'), bwrap: onPath('bwrap') },
  };
}

/** A program's absolute path on this process's PATH, or its bare name when it is not there. */
function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!isAbsolute(dir)) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return name;
}

/** GPU device nodes present on this host (NVIDIA and DRI render nodes). */
export function gpuDevices(): string[] {
  const out: string[] = [];
  try {
    for (const n of readdirSync('/dev')) if (/^nvidia/.test(n)) out.push(`/dev/${n}`);
  } catch {
    // no /dev listing
  }
  if (existsSync('/dev/dri')) out.push('/dev/dri');
  return out;
}

/** A uid for one sandboxed child of a root runner: unprivileged and not shared with anything. */
export function sandboxUser(random = Math.random): { uid: number; gid: number } {
  const id = SANDBOX_UID_BASE + Math.floor(random() * SANDBOX_UID_SPAN);
  return { uid: id, gid: id };
}

export function sandboxArgv(spec: SandboxSpec): string[] {
  if (spec.phase !== 'train' && spec.phase !== 'eval') {
    throw new Error(`sandbox: phase must be "train" or "eval", got ${JSON.stringify(spec.phase)}.`);
  }
  if (!Number.isInteger(spec.pidsLimit) || spec.pidsLimit < 16) {
    throw new Error(`sandbox: pidsLimit must be an integer of at least 16, got ${spec.pidsLimit}.`);
  }
  if (spec.command.length === 0) throw new Error('sandbox: command is empty; pass the argv to run inside the sandbox.');
  if (spec.user && (spec.user.uid === 0 || spec.user.gid === 0)) {
    throw new Error('sandbox: the child may not run as uid or gid 0; pass an unprivileged uid (sandboxUser()).');
  }
  for (const p of [spec.repoDir, ...(spec.workDir ? [spec.workDir] : []), ...spec.readOnly, ...spec.devices, spec.host.nodeModules]) {
    if (!isAbsolute(p)) throw new Error(`sandbox: path ${JSON.stringify(p)} must be absolute.`);
  }

  // bubblewrap reads its seccomp filter from a descriptor: a pipe that sh fills (printf of the
  // filter's bytes as octal escapes), with the channel (stdin) kept as it was
  const filter = seccompFilter(spec.host.arch);
  const argv = ['env', '-i', `PATH=${SANDBOX_PATH}`];
  if (filter) argv.push('/bin/sh', '-c', 'exec 4<&0; printf "$0" | { exec 3<&0 <&4 4<&-; exec "$@"; }', octalEscapes(filter));
  argv.push(spec.host.tools.prlimit, `--nproc=${spec.pidsLimit}:${spec.pidsLimit}`, `--nofile=${NOFILE_LIMIT}:${NOFILE_LIMIT}`, '--');
  if (spec.user) argv.push(spec.host.tools.setpriv, `--reuid=${spec.user.uid}`, `--regid=${spec.user.gid}`, '--clear-groups', '--');
  argv.push(
    spec.host.tools.bwrap,
    '--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--hostname', 'sandbox',
    '--clearenv',
  );
  if (filter) argv.push('--seccomp', '3');
  // the system, read-only: /usr, the merged-/usr links or the real directories, the loader cache
  argv.push('--ro-bind', '/usr', '/usr');
  for (const [link, target] of Object.entries(spec.host.links)) argv.push('--symlink', target, link);
  for (const d of spec.host.dirs) argv.push('--ro-bind', d, d);
  for (const f of SYSTEM_FILES) argv.push('--ro-bind-try', f, f);
  if (spec.host.nodePrefix) argv.push('--ro-bind', spec.host.nodePrefix, spec.host.nodePrefix);
  argv.push('--proc', '/proc', '--dev', '/dev');
  for (const d of spec.devices) argv.push('--dev-bind', d, d);
  // the CUDA driver looks its devices up in sysfs (read-only, as Flatpak gives GPU apps)
  if (spec.devices.length > 0) for (const d of ['/sys/bus', '/sys/class', '/sys/dev', '/sys/devices', '/sys/module']) argv.push('--ro-bind-try', d, d);
  argv.push('--perms', '1777', '--size', String(TMPFS_MB * 2 ** 20), '--tmpfs', '/tmp');
  // /dev is a tmpfs of bubblewrap's, unbounded (half the host's memory) and writable: read-only,
  // with a small /dev/shm (Docker's default), since files there count in no resident set
  argv.push('--perms', '1777', '--size', String(SHM_MB * 2 ** 20), '--tmpfs', '/dev/shm', '--remount-ro', '/dev');

  // the harness, read-only, with the evaluation text hidden
  const repo = trimSlash(spec.repoDir);
  for (const rel of SOURCE_MOUNTS) argv.push('--ro-bind', `${repo}/${rel}`, `${repo}/${rel}`);
  argv.push('--ro-bind', spec.host.nodeModules, `${repo}/node_modules`);
  for (const rel of HIDDEN_PATHS) {
    const target = `${repo}/${rel}`;
    argv.push('--perms', '0555', '--size', '4096', '--tmpfs', target, '--remount-ro', target);
  }
  for (const p of spec.readOnly) argv.push('--ro-bind', p, p);
  if (spec.workDir) argv.push('--bind', spec.workDir, spec.workDir);
  // the root is bubblewrap's tmpfs too, unbounded and owned by the child's uid: read-only once
  // every mount point is made (the mounts on it keep their own flags)
  argv.push('--remount-ro', '/');

  const env: Record<string, string> = { HOME: '/tmp', TMPDIR: '/tmp', PATH: SANDBOX_PATH, ...spec.env };
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`sandbox: env name ${JSON.stringify(k)} is not a valid variable name.`);
    if (isCredentialEnv(k)) {
      throw new Error(`sandbox: env ${k} looks like a credential or runner setting and is never passed to a candidate; remove it from the child's env.`);
    }
    argv.push('--setenv', k, v);
  }
  // the command starts through CLOSE_FDS: a descriptor the supervisor inherited without
  // close-on-exec (a host directory, a pipe of the runner's) would otherwise reach the candidate
  argv.push('--chdir', repo, '--', realpathSync(process.execPath), '--no-warnings', '-e', CLOSE_FDS, '--', ...spec.command);
  return argv;
}

/** PATH of bubblewrap's launch and of the sandbox: no path of the host's own */
const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * io_uring (one number on every architecture): a ring's queues are kernel memory in no resident
 * set, sized by the caller (65,536 completions and 32,768 submissions: over 3 MB a ring). Without
 * CAP_IPC_LOCK they count against RLIMIT_MEMLOCK (8 MiB by default: two such rings), but hosts
 * set up for RDMA or NCCL raise it (NVIDIA's containers ask for `--ulimit memlock=-1`); as root
 * here 200 rings held 792 MB with a 5 MB resident set. Node's libuv falls back to its thread pool
 * without io_uring. bpf(2) maps are kernel memory as well. Neither has a use in training.
 */
const IO_URING = { io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427 };

/**
 * Kernel keyrings are in no namespace the sandbox makes: every child inherits the supervisor's
 * session keyring (systemd gives each service one, KeyringMode=private; a login has one) and may
 * write it as its possessor, whatever its uid. A key outlives the child that added it, so one
 * child left data for the next (the scored eval child handed the probe child every window, and a
 * look-ahead passed the probe: test/trainer/red-team-siblings.test.ts) and one run for the next.
 * Docker's default profile refuses the same three calls.
 */
const KEYRINGS = { x64: { add_key: 248, request_key: 249, keyctl: 250 }, arm64: { add_key: 217, request_key: 218, keyctl: 219 } };

/**
 * The page cache is shared with the host and every other child as well: a child that evicts pages
 * of a file both can read (posix_fadvise DONTNEED) or reads them in, leaves one bit a page for the
 * next child, which reads them back without reading the pages in (preadv2 or Linux AIO with
 * RWF_NOWAIT, mincore, cachestat). The scored eval child handed the probe child its windows that
 * way (test/trainer/red-team-siblings.test.ts). Refused: those calls, and madvise's and
 * process_madvise's eviction (MADV_COLD, MADV_PAGEOUT: of files the child owns, a runner's own
 * checkout). Not closed: a page no process had read before the run, read in by one child and told
 * from a cold one by the next by timing or fault-around (docs/harness.md, "Limits").
 */
const PAGE_CACHE = {
  x64: { fadvise64: 221, preadv2: 327, pwritev2: 328, mincore: 27, cachestat: 451, process_madvise: 440, io_setup: 206 },
  arm64: { fadvise64_64: 223, preadv2: 286, pwritev2: 287, mincore: 232, cachestat: 451, process_madvise: 440, io_setup: 0 },
};
/** madvise(2)'s advice that reclaims a file's pages (Linux 5.4): refused as a kernel before it does (EINVAL) */
export const MADV_EVICT = { MADV_COLD: 20, MADV_PAGEOUT: 21 } as const;

/** System call numbers the filter refuses, per architecture (process.arch), and setsockopt's. */
const SECCOMP_ARCHES: Record<string, { audit: number; refused: Record<string, number>; setsockopt: number; madvise: number }> = {
  x64: {
    audit: 0xc000003e, // AUDIT_ARCH_X86_64
    refused: { shmget: 29, shmat: 30, shmctl: 31, semget: 64, msgget: 68, memfd_secret: 447, bpf: 321, ...IO_URING, ...KEYRINGS.x64, ...PAGE_CACHE.x64 },
    setsockopt: 54,
    madvise: 28,
  },
  arm64: {
    audit: 0xc00000b7, // AUDIT_ARCH_AARCH64
    refused: { msgget: 186, semget: 190, shmget: 194, shmctl: 195, shmat: 196, memfd_secret: 447, bpf: 280, ...IO_URING, ...KEYRINGS.arm64, ...PAGE_CACHE.arm64 },
    setsockopt: 208,
    madvise: 233,
  },
};

/** setsockopt(SOL_SOCKET, ...) options the filter refuses (EPERM): a socket's buffer sizes. */
export const SOCKET_BUFFER_OPTIONS = { SO_SNDBUF: 7, SO_RCVBUF: 8, SO_SNDBUFFORCE: 32, SO_RCVBUFFORCE: 33 } as const;
const SOL_SOCKET = 1;


/** The sandbox's seccomp filter as classic BPF (struct sock_filter[], little-endian, as bubblewrap
 * reads it), or null for an architecture without a table: ENOSYS for each refused call (callers
 * treat it as a kernel without the call), EPERM for setting a socket's buffer size (as for an
 * unprivileged SO_SNDBUFFORCE), EINVAL for madvise's eviction advice (as a kernel without it),
 * the process killed for a call of another ABI (i386 through int
 * 0x80, x32), which could reach the same calls by other numbers. */
export function seccompFilter(arch: string): Buffer | null {
  const a = SECCOMP_ARCHES[arch];
  if (!a) return null;
  const LD_W_ABS = 0x20, JEQ_K = 0x15, JGE_K = 0x35, RET_K = 0x06;
  const ALLOW = 0x7fff0000, KILL_PROCESS = 0x80000000, ERRNO_ENOSYS = 0x00050000 | 38, ERRNO_EPERM = 0x00050000 | 1, ERRNO_EINVAL = 0x00050000 | 22;
  // seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (its low 32 bits first: an int argument)
  const ARG = (i: number) => 16 + 8 * i;
  type Op = [number, number | string, number | string, number] | { label: string };
  const nrs = Object.values(a.refused);
  const buffers = Object.values(SOCKET_BUFFER_OPTIONS);
  const ops: Op[] = [
    [LD_W_ABS, 0, 0, 4], // seccomp_data.arch
    [JEQ_K, 1, 0, a.audit],
    [RET_K, 0, 0, KILL_PROCESS],
    [LD_W_ABS, 0, 0, 0], // seccomp_data.nr
    [JGE_K, 0, 1, 0x40000000], // x32's numbers (and anything above them)
    [RET_K, 0, 0, KILL_PROCESS],
    ...nrs.map((nr): Op => [JEQ_K, 'enosys', 0, nr]),
    [JEQ_K, 'madvise', 0, a.madvise],
    [JEQ_K, 0, 'allow', a.setsockopt],
    [LD_W_ABS, 0, 0, ARG(1)], // level
    [JEQ_K, 0, 'allow', SOL_SOCKET],
    [LD_W_ABS, 0, 0, ARG(2)], // optname
    ...buffers.map((o): Op => [JEQ_K, 'eperm', 0, o]),
    { label: 'allow' },
    [RET_K, 0, 0, ALLOW],
    { label: 'madvise' },
    [LD_W_ABS, 0, 0, ARG(2)], // advice
    ...Object.values(MADV_EVICT).map((v): Op => [JEQ_K, 'einval', 0, v]),
    [RET_K, 0, 0, ALLOW],
    { label: 'einval' },
    [RET_K, 0, 0, ERRNO_EINVAL],
    { label: 'enosys' },
    [RET_K, 0, 0, ERRNO_ENOSYS],
    { label: 'eperm' },
    [RET_K, 0, 0, ERRNO_EPERM],
  ];
  // labels to the index of the instruction after them; a jump counts from the next instruction
  const at = new Map<string, number>();
  const prog: [number, number | string, number | string, number][] = [];
  for (const op of ops) {
    if ('label' in op) at.set(op.label, prog.length);
    else prog.push(op);
  }
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    const off = (j: number | string) => (typeof j === 'number' ? j : at.get(j)! - i - 1);
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(off(jt), i * 8 + 2);
    out.writeUInt8(off(jf), i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}

/** bytes as a printf format of three-digit octal escapes (no "%" or "\\" of its own) */
function octalEscapes(b: Buffer): string {
  return [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
}

/** Run inside the sandbox by node before the real command: closes every descriptor above stdio
 * that is not close-on-exec (node's own are), then execs the command with the same environment. */
const CLOSE_FDS = [
  "const fs = require('fs');",
  "for (const n of fs.readdirSync('/proc/self/fd')) {",
  '  if (Number(n) < 3) continue;',
  '  try {',
  "    const f = /^flags:\\s*([0-7]+)/m.exec(fs.readFileSync('/proc/self/fdinfo/' + n, 'utf8'));",
  '    if (f && (parseInt(f[1], 8) & 0o2000000) === 0) fs.closeSync(Number(n));',
  '  } catch {}',
  '}',
  'process.execve(process.argv[1], process.argv.slice(1), process.env);',
].join('\n');

/** Why this runner cannot run sandboxed children, or null when it can: runs the very sandbox
 * a child gets, with `true` inside. `repoDir` null (`runner doctor`, before any checkout): a
 * stand-in checkout of empty files. */
export function sandboxProblem(repoDir: string | null): string | null {
  if (repoDir === null) {
    const stand = mkdtempSync(join(tmpdir(), 'autoresearch-probe-checkout-'));
    try {
      chmodSync(stand, 0o755);
      for (const d of ['trainer', ...HIDDEN_PATHS]) mkdirSync(join(stand, d), { recursive: true });
      for (const f of SOURCE_MOUNTS.filter((m) => m !== 'trainer')) writeFileSync(join(stand, f), '{}');
      return sandboxProblem(stand);
    } finally {
      rmSync(stand, { recursive: true, force: true });
    }
  }
  for (const tool of ['bwrap', 'prlimit', 'setpriv']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.error) {
      return tool === 'bwrap'
        ? 'bubblewrap is not installed; install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap).'
        : `${tool} (util-linux) is not installed; install util-linux.`;
    }
  }
  let host: HostLayout;
  try {
    host = hostLayout(repoDir);
  } catch (e) {
    return `the checkout ${repoDir} has no node_modules (${(e as Error).message}); run npm ci first.`;
  }
  const root = (process.getuid?.() ?? 0) === 0;
  const workDir = mkdtempSync(join(tmpdir(), 'autoresearch-probe-'));
  const argv = sandboxArgv({
    phase: 'train',
    repoDir,
    workDir,
    readOnly: [],
    pidsLimit: PIDS_LIMIT,
    devices: [],
    user: root ? sandboxUser() : null,
    command: ['/bin/sh', '-c', 'true'],
    env: {},
    host,
  });
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  rmSync(workDir, { recursive: true, force: true });
  if (r.status === 0) return null;
  const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop();
  if (/Permission denied/.test(why ?? '') && root) {
    return `the sandbox's own uid cannot read the checkout ${repoDir} (${why}); a root runner's work folder must be readable by others (chmod o+rx on it and its parents), or run the runner as an ordinary user.`;
  }
  return (
    `bubblewrap could not start a sandbox here (${why}). It needs bubblewrap 0.8 or later and unprivileged user namespaces: ` +
    'on Ubuntu 23.10+ allow them for bwrap (an AppArmor profile, see docs/runners.md) or set kernel.apparmor_restrict_unprivileged_userns=0; ' +
    'elsewhere sysctl user.max_user_namespaces must be above 0. In a container without them (Kubernetes, ARC), use the pod as the container and isolation none.'
  );
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** Variables of the supervisor's environment a sandboxed child may see (no credentials among them). */
const ENV_KEEP = ['LANG', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES', 'TF_CPP_MIN_LOG_LEVEL'];

/** The child's whole environment: HOME, TMPDIR and PATH of the sandbox, `set`, and the few
 * variables of ENV_KEEP that the runner has. */
export function sandboxEnv(set: Record<string, string>, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ENV_KEEP) if (from[k] !== undefined) env[k] = from[k] as string;
  return { ...env, ...set };
}

/** A sane memory cap when none is given: 16 GiB, or three quarters of the machine if less. */
export function defaultMemoryMb(totalBytes = totalmem()): number {
  return Math.max(64, Math.min(16384, Math.floor((totalBytes * 0.75) / 2 ** 20)));
}

/** The sandboxed command line of one harness child (the supervisor's childArgv, for
 * isolation sandbox): the worker runs with node at its host path (through tsx from the sources,
 * compiled from an installed package: trainer/runtime.ts). */
export function sandboxChildArgv(c: {
  phase: 'train' | 'eval';
  gpu: boolean;
  repoDir: string;
  /** a writable directory for the child (the harness's children talk over stdio and need none) */
  workDir?: string;
  dataMounts: { host: string; container: string }[];
  pidsLimit?: number;
  env: Record<string, string>;
}): string[] {
  const root = (process.getuid?.() ?? 0) === 0 || (process.getgid?.() ?? 0) === 0;
  const { nodeArgs, worker } = childEntry(c.phase, 'sandbox');
  return sandboxArgv({
    phase: c.phase,
    repoDir: c.repoDir,
    workDir: c.workDir,
    readOnly: c.dataMounts.map((m) => m.host),
    pidsLimit: c.pidsLimit ?? PIDS_LIMIT,
    devices: c.gpu ? gpuDevices() : [],
    user: root ? sandboxUser() : null,
    command: [realpathSync(process.execPath), ...nodeArgs, join(c.repoDir, worker), ...(c.workDir ? [c.workDir] : [])],
    env: sandboxEnv(c.env),
    host: hostLayout(c.repoDir),
  });
}
