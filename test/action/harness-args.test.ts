import { describe, it, expect } from '@jest/globals';
import { harnessArgs, type HarnessOptions } from '../../action/src/harness.js';

const base: HarnessOptions = {
  cwd: '/w',
  budget: 300,
  evalSeed: 91,
  seed: 1337,
  outDir: '/tmp/result-n',
  isolation: 'none',
  image: 'ghcr.io/acme/autoresearch-trainer:latest',
  data: 'brown',
  pinsFile: null,
  cacheDir: '/cache',
  evalBytes: null,
  memoryMb: null,
};

describe('harnessArgs (the harness CLI contract)', () => {
  it('isolation none: no container flags, harness defaults for the rest', () => {
    expect(harnessArgs(base)).toEqual([
      'trainer/cli.ts', '--budget', '300', '--eval-seed', '91', '--seed', '1337', '--backend', 'auto', '--out', '/tmp/result-n', '--json',
    ]);
  });

  it('isolation docker with the image, a memory cap, fineweb data and its cache', () => {
    expect(harnessArgs({ ...base, isolation: 'docker', memoryMb: 24000, data: 'fineweb', pinsFile: '/tmp/pins.json', evalBytes: 500000 })).toEqual([
      'trainer/cli.ts', '--budget', '300', '--eval-seed', '91', '--seed', '1337', '--backend', 'auto', '--out', '/tmp/result-n', '--json',
      '--isolation', 'docker', '--image', 'ghcr.io/acme/autoresearch-trainer:latest',
      '--memory-mb', '24000', '--eval-bytes', '500000',
      '--data', 'fineweb', '--cache-dir', '/cache', '--pins', '/tmp/pins.json',
    ]);
  });

  it('a replay and a seal key: --replay, and --seal-key with the job nonce', () => {
    expect(harnessArgs({ ...base, replay: 'v1.30.AAAA', sealKey: 'K'.repeat(43) + '=', nonce: 'nonce-7f3a9c21' }).slice(12)).toEqual([
      '--replay', 'v1.30.AAAA', '--seal-key', 'K'.repeat(43) + '=', '--nonce', 'nonce-7f3a9c21',
    ]);
    expect(harnessArgs({ ...base, replay: '', sealKey: '', nonce: 'nonce-7f3a9c21' })).toEqual(harnessArgs(base));
  });
});

describe('harnessArgs: the pre-flight floors', () => {
  it('passes the App\'s floors as one JSON argument, and nothing when there are none', () => {
    const floors = { 'cpu-x': { 'matmul-256x256x256x10@wasm': 2.5 } };
    expect(harnessArgs({ ...base, paceFloors: floors }).slice(12)).toEqual(['--pace-floors', JSON.stringify(floors)]);
    expect(harnessArgs({ ...base, paceFloors: null })).toEqual(harnessArgs(base));
    expect(harnessArgs({ ...base, paceFloors: {} })).toEqual(harnessArgs(base));
  });
});
