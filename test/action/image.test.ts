// The trainer image cannot be built here (no Docker engine), so its promises to the rest of
// the system are checked on the text: the CUDA/cuDNN that tfjs-node-gpu 4.x loads, the user
// that trainer/isolation.ts runs children as, and a build context holding only the harness.
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_USER } from '../../trainer/isolation.js';

const ROOT = join(import.meta.dirname, '..', '..');
// instructions, with continuation lines joined and comment lines dropped, as docker reads them
const instructions = readFileSync(join(ROOT, 'trainer', 'Dockerfile'), 'utf8')
  .split('\n')
  .filter((l) => !/^\s*#/.test(l))
  .join('\n')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [op, ...rest] = l.trim().split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });

describe('trainer/Dockerfile', () => {
  it('runs on the CUDA 11 + cuDNN 8 runtime with Node 24', () => {
    const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms.at(-1)).toMatch(/^nvidia\/cuda:11\.\d+\.\d+-cudnn8-runtime-ubuntu\d+\.\d+$/);
    expect(froms).toContain('node:24-bookworm-slim AS node');
  });

  it('installs the locked dependencies with tfjs-node-gpu and checks its native binding', () => {
    const run = instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
    expect(run).toMatch(/npm ci --omit=dev/);
    expect(run).toMatch(/tfjs-node-gpu -name tfjs_binding\.node/);
  });

  it('carries the WebGPU path too: Dawn from the npm package, the Vulkan loader, the driver\'s graphics capability', () => {
    const run = instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
    expect(run).toMatch(/apt-get install [^&]*\blibvulkan1\b/);
    expect(run).toMatch(/test -f node_modules\/webgpu\/dist\/linux-x64\/dawn\.node/);
    const env = instructions.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NVIDIA_DRIVER_CAPABILITIES=\S*graphics/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
    expect(Object.keys(pkg.optionalDependencies)).toEqual(expect.arrayContaining(['webgpu', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-node-gpu']));
  });

  it('ends as the unprivileged user the isolation runs children as, with a dataset cache volume', () => {
    const users = instructions.filter((i) => i.op === 'USER');
    expect(users.at(-1)?.args).toBe(CONTAINER_USER);
    expect(instructions.find((i) => i.op === 'VOLUME')?.args).toBe('["/data/cache"]');
    expect(instructions.find((i) => i.op === 'WORKDIR')?.args).toBe('/app');
  });

  it('builds from a context of the harness and manifests only', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore.filter((l) => l.startsWith('!')).sort()).toEqual(['!package-lock.json', '!package.json', '!trainer/', '!tsconfig.json']);
  });
});
