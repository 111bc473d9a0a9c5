// Red team of the workflows, second pass: attacks that the properties in workflows.test.ts do not
// see. Each test states the attack and asserts the property that stops it.
import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const raw = (file: string): Record<string, any> => parseYaml(readFileSync(join(WORKFLOWS, file), 'utf8'));
const stepsOf = (file: string): { job: string; step: Record<string, any> }[] =>
  Object.entries<any>(raw(file).jobs ?? {}).flatMap(([job, j]) => ((j.steps ?? []) as Record<string, any>[]).map((step) => ({ job, step })));

/**
 * Whether actions/setup-node (the pinned v7.0.0, src/main.ts) restores the npm cache, and saves
 * one in its post step: with `cache:` set, or else unless `package-manager-cache` is false when the
 * package.json it reads names npm in `packageManager` or `devEngines.packageManager`.
 */
function setupNodeCaches(withInputs: Record<string, unknown> | undefined, packageJson: Record<string, any>): boolean {
  const w = withInputs ?? {};
  if (w.cache !== undefined && w.cache !== '') return true;
  if (String(w['package-manager-cache'] ?? 'true').toUpperCase() !== 'TRUE') return false;
  const dev = packageJson.devEngines?.packageManager;
  const names = [...(Array.isArray(dev) ? dev.map((d: any) => d?.name) : [dev?.name]), String(packageJson.packageManager ?? '').split('@')[0]];
  return names.includes('npm');
}

describe('attacks on the workflows (second pass)', () => {
  // actions/setup-node v5 and later restore ~/.npm from the Actions cache on their own, without a
  // `cache:` input, as soon as package.json says `"packageManager": "npm@…"` (or devEngines does),
  // and save it again in the post step. One line in package.json (a routine corepack change, or a
  // PR's package.json in ci.yml) would turn on: a cache *saved* from the experiment job on a
  // volunteer's machine (the runner owner holds the job's runtime token and the files it archives)
  // into the default branch's scope, and *restored* with `tar -P` over the file system in the jobs
  // that deploy the leaderboard (pages.yml) and sign ledger heads (witness.yml). So every
  // setup-node step turns the automatic cache off by name; the rule above is setup-node's own.
  it('no setup-node step restores or saves a cache, even once package.json names npm', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const variants = [
      pkg,
      { ...pkg, packageManager: 'npm@11.6.2' },
      { ...pkg, devEngines: { packageManager: { name: 'npm', version: '>=11' } } },
      { ...pkg, devEngines: { packageManager: [{ name: 'npm' }] } },
    ];
    const caching: string[] = [];
    for (const file of files) {
      for (const { job, step } of stepsOf(file)) {
        if (!String(step.uses ?? '').startsWith('actions/setup-node@')) continue;
        if (variants.some((p) => setupNodeCaches(step.with, p))) caching.push(`${file} ${job}`);
        // and stated in the file, so a reader sees it and a bump of the pin keeps it
        if (step.with?.['package-manager-cache'] !== false) caching.push(`${file} ${job}: package-manager-cache is not false`);
      }
    }
    expect(caching).toEqual([]);
  });

  // The model of setup-node's rule is what the test above relies on: it must say "caches" where
  // setup-node would.
  it('the setup-node model caches where setup-node v7 would', () => {
    expect(setupNodeCaches({ 'node-version': 24 }, { packageManager: 'npm@11.0.0' })).toBe(true);
    expect(setupNodeCaches({ 'node-version': 24 }, { devEngines: { packageManager: { name: 'npm' } } })).toBe(true);
    expect(setupNodeCaches({ 'node-version': 24 }, {})).toBe(false);
    expect(setupNodeCaches({ cache: 'npm' }, {})).toBe(true);
    expect(setupNodeCaches({ 'package-manager-cache': false }, { packageManager: 'npm@11.0.0' })).toBe(false);
  });

  // The upload step runs `if: always()`, also when the Action refused its inputs, so it must not
  // build a file path from a dispatch input that only the Action checks: a nonce of
  // `x/../../../.ssh` or one with a newline (the path input is a list of globs, one a line) would
  // upload files of the volunteer's machine into the result artifact the App downloads. The
  // result folder is a fixed name under the runner's temp dir (emptied before every job); the
  // nonce names only the artifact, which upload-artifact refuses with `/`, `\`, `:` or a newline.
  it('experiment.yml builds no file path from a dispatch input', () => {
    const offenders: string[] = [];
    for (const { step } of stepsOf('experiment.yml')) {
      for (const [key, value] of Object.entries<any>(step.with ?? {})) {
        const pathLike = key === 'path' || key.endsWith('-dir') || key === 'working-directory';
        if (pathLike && /inputs\./.test(String(value))) offenders.push(`${step.uses ?? step.name} ${key}: ${value}`);
      }
    }
    expect(offenders).toEqual([]);
    // the Action writes where the upload reads
    const steps = stepsOf('experiment.yml').map((s) => s.step);
    const outDir = String(steps.find((s) => s.uses === './action')!.with['out-dir']);
    const upload = steps.find((s) => String(s.uses).startsWith('actions/upload-artifact@'))!;
    expect(String(upload.with.path).trim().split('\n').map((l) => l.trim())).toEqual([`${outDir}/result.json`, `${outDir}/train.log`]);
    expect(upload.with.name).toBe('result-${{ inputs.nonce }}');
  });

  // A witnessed head is a Sigstore certificate for *some* workflow run of the repository. Checked
  // with `--repo` alone, any workflow of any branch signs as well: a collaborator's branch with its
  // own copy of witness.yml (or any workflow granted id-token: write), or a job on a self-hosted
  // runner, could mint "witnessed" heads of a ledger that never was (a false alarm against the
  // real one, or a fake head to check a forged checkout against). The instructions pin the signer
  // workflow, the default branch and GitHub-hosted runners.
  it('the witness verification pins the signer workflow, the default branch and hosted runners', () => {
    const witness = readFileSync(join(WORKFLOWS, 'witness.yml'), 'utf8');
    const ledgerDoc = readFileSync(join(ROOT, 'docs', 'ledger.md'), 'utf8');
    for (const [name, text] of [['witness.yml', witness], ['docs/ledger.md', ledgerDoc]] as const) {
      // one line per command: comment markers, continuation backslashes and line breaks folded
      const flat = text.replace(/\n\s*#\s*/g, ' ').replace(/\\\s/g, ' ').replace(/\s+/g, ' ');
      const commands = flat.match(/gh attestation verify [^`(]*/g) ?? [];
      expect({ name, found: commands.length > 0 }).toEqual({ name, found: true });
      for (const c of commands) {
        expect({ name, c }).toEqual({ name, c: expect.stringMatching(/--signer-workflow \S*\.github\/workflows\/witness\.yml/) });
        expect({ name, c }).toEqual({ name, c: expect.stringMatching(/--source-ref refs\/heads\//) });
        expect({ name, c }).toEqual({ name, c: expect.stringMatching(/--deny-self-hosted-runners/) });
      }
    }
    // and the witness job itself runs on a GitHub-hosted runner
    for (const job of Object.values<any>(raw('witness.yml').jobs)) expect(String(job['runs-on'])).toMatch(/^ubuntu-/);
  });
});

describe('image.yml', () => {
  // image.yml holds packages: write and pushes `:latest`, the trainer image every volunteer's
  // runner pulls for its containers. workflow_dispatch can be run on any branch or tag, and then
  // builds that ref's trainer/Dockerfile and harness: unreviewed code published as `:latest`. (A
  // branch's own copy of image.yml could drop this guard; what it stops is a dispatch of the
  // default branch's file on the wrong ref, e.g. from the Run workflow menu.)
  it('publishes only from the default branch', () => {
    const w = raw('image.yml');
    expect(Object.keys(w.on)).toEqual(expect.arrayContaining(['workflow_dispatch']));
    expect(w.on.push.branches).toEqual(['main']);
    const runs = (condition: string, ref: string) => {
      const ctx = JSON.parse(JSON.stringify({ github: { ref, event: { repository: { default_branch: 'main' } } } }), data.reviver);
      const parsed = new Parser(new Lexer(condition).lex().tokens, ['github'], []).parse();
      return new Evaluator(parsed, ctx).evaluate().coerceString() === 'true';
    };
    for (const [id, job] of Object.entries<any>(w.jobs)) {
      const condition = String(job.if ?? 'true');
      const got = ['refs/heads/main', 'refs/heads/feature', 'refs/tags/main', 'refs/heads/main-copy'].map((ref) => [ref, runs(condition, ref)]);
      expect({ id, got }).toEqual({ id, got: [['refs/heads/main', true], ['refs/heads/feature', false], ['refs/tags/main', false], ['refs/heads/main-copy', false]] });
    }
  });
});
