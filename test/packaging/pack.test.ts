// The installable CLI: `npm pack` (which builds build/ first) makes a tarball that installs into
// an empty project and runs `autoresearch-swarm runner ...` and `autoresearch-swarm experiment`
// from compiled JavaScript, with tsx deleted from the install to show nothing needs it.
// Offline: the project beside the tarball gets this repository's lockfile, so npm takes every
// dependency from its cache (filled by `npm ci`) and only unpacks the tarball itself.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
// the children are npm and node themselves; jest's module flag is not for them
const env = { ...process.env, NODE_OPTIONS: '' };

let dir = '';
let tarball = '';
let files: string[] = [];
let bin = '';

function run(args: string[], cwd = dir) {
  const r = spawnSync(bin, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pack-test-'));
  execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT, env, stdio: 'pipe' });
  const made = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  expect(made).toEqual([`${pkg.name}-${pkg.version}.tgz`]);
  tarball = made[0];
  files = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' }).trim().split('\n');

  // An empty project that depends on the tarball, its lockfile this repository's: every other
  // dependency resolves to the version `npm ci` put in the cache.
  const project = join(dir, 'project');
  execFileSync('mkdir', [project]);
  const deps = { ...pkg.dependencies, [pkg.name]: `file:../${tarball}` };
  const root = { name: 'pack-test', version: '0.0.0', private: true, dependencies: deps, optionalDependencies: pkg.optionalDependencies };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  lock.name = root.name;
  lock.packages[''] = root;
  writeFileSync(join(project, 'package.json'), JSON.stringify(root, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const install = spawnSync('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, env, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm install --offline of the tarball failed (is the npm cache filled by \`npm ci\`?):\n${install.stderr}`);
  rmSync(join(project, 'node_modules', 'tsx'), { recursive: true, force: true });
  rmSync(join(project, 'node_modules', '.bin', 'tsx'), { force: true });
  bin = join(project, 'node_modules', '.bin', 'autoresearch-swarm');
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the launcher and the compiled CLI and harness, and no TypeScript', () => {
    for (const f of ['package.json', 'README.md', 'runner/bin.mjs', 'build/runner/cli.js', 'build/trainer/cli.js', 'build/trainer/train-worker.js', 'build/trainer/eval-worker.js', 'build/trainer/train.js']) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files.filter((f) => /^package\/(test|app|action|ledger)\//.test(f))).toEqual([]);
  });

  it('installs its command, and tsx is not there to help', () => {
    expect(existsSync(bin)).toBe(true);
    expect(existsSync(join(dir, 'project', 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(dir, 'project', 'node_modules', pkg.name, 'runner', 'cli.ts'))).toBe(false);
  });

  it('answers --help with both commands, runner --help and experiment --help', () => {
    const top = run(['--help']);
    expect({ code: top.code, err: top.err }).toEqual({ code: 0, err: '' });
    expect(top.out).toMatch(/runner doctor\|join\|status/);
    expect(top.out).toMatch(/experiment \[options\]/);
    const runner = run(['runner', '--help']);
    expect(runner.code).toBe(0);
    expect(runner.out).toMatch(/doctor .*\n.*join .*\n.*status /);
    const experiment = run(['experiment', '--help']);
    expect(experiment.code).toBe(0);
    expect(experiment.out).toMatch(/--budget <seconds>/);
  });

  it('runs the runner CLI from compiled code (its own usage error, not a missing module)', () => {
    const r = run(['runner', 'no-such-command']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "no-such-command"/);
    expect(r.err).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find|tsx/);
  });

  it("runner doctor picks the class from the compiled harness's own backend probe", () => {
    // PATH holds node alone: no Docker, so the class is what a job on this host would report
    const r = spawnSync(bin, ['runner', 'doctor', '--image', 'ghcr.io/acme/autoresearch-trainer:latest', '--cache-dir', join(dir, 'doctor-cache')], {
      cwd: dir,
      env: { ...env, PATH: dirname(process.execPath) },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stdout).toMatch(/✓ Harness backend: jobs here train on (wasm|cpu) \(CPU\)/);
    expect(r.stdout).toMatch(/Hardware class this runner will report: cpu-/);
  });

  it('runs a short experiment with compiled children, scored as usual', () => {
    const out = join(dir, 'run');
    const r = run(['experiment', '--budget', '1', '--backend', 'wasm', '--eval-bytes', '4096', '--json', '--out', out]);
    expect({ code: r.code, err: r.code === 0 ? '' : r.err }).toEqual({ code: 0, err: '' });
    const result = JSON.parse(r.out);
    expect(result.status).toBe('ok');
    expect(result.backend).toBe('wasm');
    expect(result.val_bpb).toBeGreaterThan(0);
    const log = readFileSync(join(out, 'train.log'), 'utf8');
    expect(log).toMatch(/\[harness\] train: \S+ \S+\/build\/trainer\/train-worker\.js$/m);
    expect(log).not.toMatch(/--import tsx/);
  });
});
