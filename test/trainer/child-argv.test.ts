import { describe, expect, it } from '@jest/globals';
import { childArgv } from '../../trainer/supervisor.js';

const base = {
  image: 'ghcr.io/acme/autoresearch-trainer:1',
  gpu: true,
  memoryMb: 8192,
  repoDir: '/srv/checkout',
  name: 'autoresearch-train-abc',
};

describe('child command lines', () => {
  it('runs a child on the host with node and tsx, with no path of a work dir', () => {
    expect(childArgv({ ...base, phase: 'train', isolation: 'none' })).toEqual([
      process.execPath,
      '--import',
      'tsx',
      '/srv/checkout/trainer/train-worker.ts',
    ]);
  });

  it('runs a docker child through isolation.ts: no network, stdin open for the channel, nothing mounted read-write', () => {
    const argv = childArgv({ ...base, phase: 'train', isolation: 'docker' });
    expect(argv.slice(0, 2)).toEqual(['docker', 'run']);
    expect(argv.slice(-5)).toEqual([base.image, 'node', '--import', 'tsx', 'trainer/train-worker.ts']);
    expect(argv.join(' ')).toContain('--network none');
    expect(argv.join(' ')).toContain('--memory 8192m');
    expect(argv).toContain('--interactive');
    expect(argv.join(' ')).not.toContain('target=/work');
    // every bind mount is read-only: the supervisor shares no writable path with a child
    const binds = argv.filter((a) => a.startsWith('type=bind'));
    expect(binds.length).toBeGreaterThan(0);
    for (const b of binds) expect(b).toMatch(/,readonly$/);
    expect(argv).toContain('--gpus');
  });
});
