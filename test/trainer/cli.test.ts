import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInstalled, MAX_WARMUP_STEPS, parseCli, summary } from '../../trainer/cli.js';
import { encodeSchedule, linearSchedule } from '../../trainer/replay-schedule.js';
import { importFailure } from '../../trainer/candidate-loader.js';

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
    const pins = join(mkdtempSync(join(tmpdir(), 'pins-')), 'pins.yml');
    const shard = { id: 'a', url: 'https://example.org/a.parquet', sha256: 'ab'.repeat(32), split: 'train', max_text_bytes: 10 };
    writeFileSync(pins, JSON.stringify({ fineweb_shards: [shard, { ...shard, id: 'b', sha256: 'cd'.repeat(32), split: 'val' }] }));
    const { options, json } = parseCli(
      ['--budget', '12.5', '--backend', 'cpu', '--seed', '3', '--eval-seed', '99', '--eval-bytes', '5000', '--data', 'fineweb', '--pins', pins, '--json', '--warmup', '5', '--memory-mb', '2048', '--out', '/tmp/x'],
    );
    expect(json).toBe(true);
    expect(options).toMatchObject({ budgetSeconds: 12.5, backend: 'cpu', seed: 3, evalSeed: 99, evalBytes: 5000, data: 'fineweb', warmupSteps: 5, memoryMb: 2048, outDir: '/tmp/x' });
    expect(options.shards?.map((s) => [s.id, s.split])).toEqual([['a', 'train'], ['b', 'val']]);
    // --pins alone means fineweb; fineweb without pins has nothing to verify its shards against
    expect(parseCli(['--pins', pins]).options.data).toBe('fineweb');
    expect(() => parseCli(['--data', 'fineweb'])).toThrow(/--data fineweb needs --pins <file>.*npm run pin-data/);
    expect(() => parseCli(['--data', 'brown', '--pins', pins])).toThrow(/--pins applies to --data fineweb only/);
  });

  it.each([
    [['--budget', '0'], /--budget must be a number of seconds greater than 0/],
    [['--backend', 'tpu'], /--backend must be one of auto, node-gpu, webgpu, node, wasm, cpu, got "tpu"/],
    [['--seed', '1.5'], /--seed must be an integer/],
    [['--candidate', '/nope.ts'], /--candidate \/nope\.ts does not exist/],
    [['--isolation', 'docker'], /--isolation docker needs --image/],
    [['--bogus'], /Unknown option '--bogus'/],
    // a negative number is a value, named with the allowed range (not node's "argument is ambiguous")
    [['--budget', '-5'], /^--budget must be a number of seconds greater than 0 \(default 300\), got "-5"\.$/],
    [['--budget', 'abc'], /--budget must be a number of seconds greater than 0 \(default 300\), got "abc"/],
    [['--warmup', '50'], /^--warmup must be an integer from 0 to 20, got "50"\.$/],
    [['--warmup', '-1'], /^--warmup must be an integer from 0 to 20, got "-1"\.$/],
    [['--eval-bytes', '-1'], /^--eval-bytes must be an integer of at least 1024, got "-1"\.$/],
    [['--steps', '0'], /^--steps must be an integer from 1 to 100000000, got "0"\.$/],
    [['--steps', '10', '--replay', 'v1.10.'], /--steps and --replay both set how many steps to train; pass one of them/],
    [['--seal-key', 'K'.repeat(43) + '='], /--seal-key needs --nonce/],
    [['--pace-floors', '{"cpu-x": 3}'], /^--pace-floors at cpu-x: .*"<calibration workload>"/],
  ])('rejects %j with one clear message', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('--steps is a replay of a step budget; --replay, --seal-key and --nonce go to the run as given', () => {
    expect(parseCli(['--steps', '300']).options).toMatchObject({ replay: encodeSchedule(linearSchedule(300)), sealKey: null, nonce: null });
    expect(parseCli([]).options).toMatchObject({ replay: null, sealKey: null, nonce: null });
    // a malformed schedule or key is the run's harness_error (a result names it), not a usage error
    expect(parseCli(['--replay', 'v9.x', '--seal-key', 'k', '--nonce', 'job-nonce-1']).options).toMatchObject({ replay: 'v9.x', sealKey: 'k', nonce: 'job-nonce-1' });
  });

  it('--pace-floors goes to the run parsed; none by default', () => {
    expect(parseCli([]).options.paceFloors).toBeNull();
    expect(parseCli(['--pace-floors', '{"cpu-x": {"matmul-256x256x256x10@wasm": 2.5}}']).options.paceFloors).toEqual({ 'cpu-x': { 'matmul-256x256x256x10@wasm': 2.5 } });
  });

  it('takes a negative seed as a value', () => {
    expect(parseCli(['--seed', '-3']).options.seed).toBe(-3);
  });

  it('caps --warmup where the train worker caps it', () => {
    const worker = readFileSync(new URL('../../trainer/train-worker.ts', import.meta.url), 'utf8');
    expect(worker).toMatch(new RegExp(`MAX_WARMUP_STEPS = ${MAX_WARMUP_STEPS};`));
  });

  it('names a missing native backend package and how to install it, once, before anything runs', () => {
    const missing = () => {
      throw new Error("Cannot find module '@tensorflow/tfjs-node-gpu'");
    };
    expect(() => checkInstalled('node-gpu', 'none', missing)).toThrow(/^--backend node-gpu needs @tensorflow\/tfjs-node-gpu, which is not installed here.*npm install --no-save @tensorflow\/tfjs-node-gpu@4\.22\.0.*or choose --backend auto, wasm or cpu\.$/s);
    expect(() => checkInstalled('node', 'none', missing)).toThrow(/@tensorflow\/tfjs-node@4\.22\.0/);
    // inside the trainer image the package is the image's business; wasm needs no optional package
    expect(() => checkInstalled('node-gpu', 'docker', missing)).not.toThrow();
    expect(() => checkInstalled('wasm', 'none', missing)).not.toThrow();
    expect(() => checkInstalled('node-gpu', 'none', () => '/x')).not.toThrow();
  });

  it('reports a candidate that throws while loading with its message and its own stack frames only', () => {
    const e = new TypeError('x is not a function');
    e.stack = 'TypeError: x is not a function\n    at <anonymous> (/w/train.ts:12:3)\n    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)\n    at /w/node_modules/tsx/dist/esm/index.mjs:1:1';
    expect(importFailure('/w/train.ts', e)).toBe('importing /w/train.ts failed: TypeError: x is not a function\n    at <anonymous> (/w/train.ts:12:3)');
  });

  it('shows a failed run without figures that mean nothing (0 steps, 0 params, backend none)', () => {
    const failed = { status: 'failed', failure: { kind: 'harness_error', message: 'train: boom' }, steps: 0, tokens: 0, params: 0, backend: 'none', device: 'CPU: X', hardware_class: 'cpu-x', peak_memory_mb: 60, train_seconds: 0, total_seconds: 0.4, tokens_per_second: 0 };
    const text = summary(failed as unknown as Parameters<typeof summary>[0], '/o');
    expect(text).toBe('FAILED (harness_error): train: boom\nCPU: X [cpu-x], no backend loaded, peak 60 MB\nresult: /o/result.json, log: /o/train.log');
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

  it('reports a syntax error in the candidate as file:line:column with the line, not esbuild\'s stack', () => {
    const out = fileURLToPath(new URL('../../.cache/cli-test-syntax', import.meta.url));
    // written here, not kept as a fixture: `npm run typecheck` would refuse the repository
    const dir = mkdtempSync(join(tmpdir(), 'syntax-'));
    const candidate = join(dir, 'syntax-error.ts');
    writeFileSync(candidate, "import type { Candidate, TF } from './candidate-api.js';\n\n// a missing parenthesis on line 4\nexport function createModel(tf: TF, seed: number {\n  return {} as Candidate;\n}\n");
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'trainer/cli.ts', '--budget', '1', '--backend', 'cpu', '--eval-bytes', '4096', '--candidate', candidate, '--out', out],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    const [first, ...rest] = r.stdout.trim().split('\n');
    expect(first).toMatch(/^FAILED \(crash\): (train|eval): \S+syntax-error\.ts does not compile \(a syntax error\):$/);
    expect(rest[0]).toMatch(/^syntax-error\.ts:4:\d+: Expected .+/);
    expect(rest[1]).toBe('  4 | export function createModel(tf: TF, seed: number {');
    expect(r.stdout).not.toMatch(/esbuild|node_modules|0 steps|0 params/);
  });
});
