import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseCli } from '../../trainer/cli.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('experiment CLI', () => {
  it('has the documented defaults', () => {
    const { options, json } = parseCli([], new Date('2026-01-02T03:04:05.678Z'));
    expect(json).toBe(false);
    expect(options).toMatchObject({
      budgetSeconds: 300,
      backend: 'auto',
      evalSeed: null,
      evalBytes: 200_000,
      data: 'brown',
      warmupSteps: 0,
      memoryMb: null,
      isolation: 'none',
    });
    expect(options.candidate).toMatch(/trainer\/train\.ts$/);
    expect(options.outDir).toMatch(/runs\/2026-01-02T03-04-05-678Z$/);
  });

  it('parses every option', () => {
    const { options, json } = parseCli(
      ['--budget', '12.5', '--backend', 'cpu', '--seed', '3', '--eval-seed', '99', '--eval-bytes', '5000', '--data', 'fineweb', '--json', '--warmup', '5', '--memory-mb', '2048', '--out', '/tmp/x'],
    );
    expect(json).toBe(true);
    expect(options).toMatchObject({ budgetSeconds: 12.5, backend: 'cpu', seed: 3, evalSeed: 99, evalBytes: 5000, data: 'fineweb', warmupSteps: 5, memoryMb: 2048, outDir: '/tmp/x' });
  });

  it.each([
    [['--budget', '0'], /--budget must be a positive number/],
    [['--backend', 'tpu'], /--backend must be one of auto, node-gpu, webgpu, node, wasm, cpu, got "tpu"/],
    [['--seed', '1.5'], /--seed must be an integer/],
    [['--candidate', '/nope.ts'], /--candidate \/nope\.ts does not exist/],
    [['--isolation', 'docker'], /--isolation docker needs --image/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with one clear message', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('exits 2 with the message on stderr and nothing on stdout for bad arguments', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'trainer/cli.ts', '--backend', 'tpu', '--json'], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('--backend must be one of auto, node-gpu, webgpu, node, wasm, cpu, got "tpu".');
  });

  it('prints only the result JSON with --json and exits 1 when the candidate fails', () => {
    const out = fileURLToPath(new URL('../../.cache/cli-test-run', import.meta.url));
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'trainer/cli.ts', '--json', '--budget', '1', '--backend', 'wasm', '--eval-bytes', '4096', '--candidate', 'test/trainer/fixtures/throws.ts', '--out', out],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result.status).toBe('failed');
    expect(result.failure.kind).toBe('crash');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });
});
