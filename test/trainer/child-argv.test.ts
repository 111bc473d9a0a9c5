import { describe, expect, it } from '@jest/globals';
import { childArgv } from '../../trainer/supervisor.js';

const base = {
  image: 'ghcr.io/acme/autoresearch-trainer:1',
  gpu: true,
  memoryMb: 8192,
  repoDir: '/srv/checkout',
  workDir: '/tmp/autoresearch-x/train',
  dataMounts: [{ host: '/tmp/autoresearch-x/data', container: '/data/train' }],
  name: 'autoresearch-train-abc',
};

describe('child command lines', () => {
  it('runs a child on the host with node and tsx', () => {
    expect(childArgv({ ...base, phase: 'train', isolation: 'none' })).toEqual([
      process.execPath,
      '--import',
      'tsx',
      '/srv/checkout/trainer/train-worker.ts',
      '/tmp/autoresearch-x/train',
    ]);
  });

  it('runs a docker child through isolation.ts: no network, the work dir at /work, the worker inside the image', () => {
    const argv = childArgv({ ...base, phase: 'train', isolation: 'docker' });
    expect(argv.slice(0, 2)).toEqual(['docker', 'run']);
    expect(argv.slice(-6)).toEqual([base.image, 'node', '--import', 'tsx', 'trainer/train-worker.ts', '/work']);
    expect(argv.join(' ')).toContain('--network none');
    expect(argv.join(' ')).toContain('--memory 8192m');
    expect(argv.join(' ')).toContain(`source=${base.workDir},target=/work`);
    expect(argv.join(' ')).toContain('source=/tmp/autoresearch-x/data,target=/data/train,readonly');
    expect(argv).toContain('--gpus');
  });

  it('never mounts evaluation data into the train child', () => {
    expect(() =>
      childArgv({ ...base, phase: 'train', isolation: 'docker', dataMounts: [{ host: '/tmp/eval', container: '/data/eval' }] }),
    ).toThrow(/only be mounted for the eval phase/);
  });
});
