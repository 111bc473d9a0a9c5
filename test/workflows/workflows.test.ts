// Every workflow in .github/workflows and the Action's action.yml must parse under GitHub's
// own parser, and hold the security properties the project depends on: no
// pull_request_target, least-privilege permissions, a timeout on every job, third-party
// actions pinned by commit, and an experiment workflow that runs no PR code but train.ts.
import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';
import type { ActionStep, Job, WorkflowTemplate } from '@actions/workflow-parser/model/workflow-template';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const files = existsSync(WORKFLOWS) ? readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort() : [];

interface Parsed {
  name: string;
  template: WorkflowTemplate;
  raw: Record<string, any>;
}

async function load(file: string): Promise<Parsed> {
  const content = readFileSync(join(WORKFLOWS, file), 'utf8');
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const parseErrors = result.context.errors.getErrors().map((e) => e.message);
  expect(parseErrors).toEqual([]);
  expect(result.value).toBeDefined();
  const template = await convertWorkflowTemplate(result.context, result.value!);
  expect((template.errors ?? []).map((e) => e.Message)).toEqual([]);
  return { name: file, template, raw: parseYaml(content) };
}

const jobsOf = (w: Parsed) => w.template.jobs.filter((j): j is Job => j.type === 'job');
const actionSteps = (j: Job) => j.steps.filter((s): s is ActionStep => 'uses' in s);
const WRITE = /write/;
// what a self-hosted job may check out: the commit it was dispatched on (the default branch,
// when the App dispatches), or the default branch's head
const TRUSTED_REF = /^\$\{\{ (github\.sha|github\.event\.repository\.default_branch) \}\}$/;

describe('workflows', () => {
  it('include the experiment, ci and image workflows', () => {
    expect(files).toEqual(expect.arrayContaining(['experiment.yml', 'ci.yml', 'image.yml']));
  });

  describe.each(files)('%s', (file) => {
    it('parses without errors and holds the common security properties', async () => {
      const w = await load(file);
      expect(Object.keys(w.template.events)).not.toContain('pull_request_target');

      // permissions at the top, or on every job
      const jobsRaw: Record<string, any> = w.raw.jobs ?? {};
      for (const [id, job] of Object.entries(jobsRaw)) {
        expect({ job: id, permissions: w.raw.permissions ?? job.permissions }).toEqual({ job: id, permissions: expect.anything() });
        if (job.uses === undefined) expect({ job: id, timeout: job['timeout-minutes'] }).toEqual({ job: id, timeout: expect.anything() });
      }
      // A self-hosted runner is a volunteer's machine: nothing a PR triggers may reach it, and
      // it only ever checks out the default branch.
      const events = Object.keys(w.template.events);
      for (const [id, job] of Object.entries(jobsRaw)) {
        const selfHosted = JSON.stringify(job['runs-on'] ?? '').includes('self-hosted');
        if (!selfHosted) continue;
        expect({ job: id, events }).toEqual({ job: id, events: ['workflow_dispatch'] });
        for (const step of (job.steps ?? []) as Record<string, any>[]) {
          if (String(step.uses ?? '').startsWith('actions/checkout@')) {
            expect({ job: id, ref: step.with?.ref }).toEqual({ job: id, ref: expect.stringMatching(TRUSTED_REF) });
          }
        }
      }
      // No checkout leaves a token in .git/config for later steps (or candidate code) to find.
      for (const job of Object.values(jobsRaw)) {
        for (const step of (job.steps ?? []) as Record<string, any>[]) {
          if (String(step.uses ?? '').startsWith('actions/checkout@')) expect(step.with?.['persist-credentials']).toBe(false);
        }
      }
      for (const job of jobsOf(w)) {
        for (const step of actionSteps(job)) {
          const uses = step.uses.value;
          if (uses.startsWith('./') || uses.startsWith('docker://')) continue;
          expect({ step: uses }).toEqual({ step: expect.stringMatching(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/) });
        }
      }
    });
  });
});

describe('experiment.yml', () => {
  it('is dispatched only, reads only, targets the self-hosted class and times out', async () => {
    const w = await load('experiment.yml');
    expect(Object.keys(w.template.events)).toEqual(['workflow_dispatch']);
    expect(Object.keys(w.template.events.workflow_dispatch?.inputs ?? {}).sort()).toEqual(
      ['budget', 'data_pins', 'eval_seed', 'nonce', 'pace_floors', 'pr', 'replay', 'role', 'runner_label', 'seal_key', 'seed', 'sha'].sort(),
    );
    const perms = w.raw.permissions;
    expect(perms === undefined ? 'missing' : JSON.stringify(perms)).not.toMatch(WRITE);
    expect(perms).not.toBe('write-all');
    expect(w.raw.concurrency.group).toMatch(/inputs\.pr/);
    expect(w.raw.concurrency.group).toMatch(/inputs\.role/);
    expect(w.raw.concurrency.group).toMatch(/inputs\.nonce/); // one group per job

    const [job] = jobsOf(w);
    expect(jobsOf(w)).toHaveLength(1);
    const runsOn = w.raw.jobs[job.id.value]['runs-on'];
    expect(runsOn.slice(0, 2)).toEqual(['self-hosted', 'autoresearch']);
    expect(runsOn[2]).toMatch(/inputs\.runner_label/);
    expect(String(w.raw.jobs[job.id.value]['timeout-minutes'])).toMatch(/inputs\.budget/);
  });

  it('checks out the dispatched default-branch commit without credentials and runs no PR code but train.ts via the Action', async () => {
    const w = await load('experiment.yml');
    const [job] = jobsOf(w);
    const rawSteps: Record<string, any>[] = w.raw.jobs[job.id.value].steps;

    const checkouts = rawSteps.filter((s) => String(s.uses ?? '').startsWith('actions/checkout@'));
    expect(checkouts).toHaveLength(1);
    expect(checkouts[0].with['persist-credentials']).toBe(false);
    expect(checkouts[0].with.ref).toBe('${{ github.sha }}');

    // Only the trusted local Action sees the candidate SHA; no script step interpolates any input.
    const mentionsCandidate = rawSteps.filter((s) => JSON.stringify(s).match(/inputs\.(sha|pr)\b/));
    expect(mentionsCandidate.map((s) => s.uses)).toEqual(['./action']);
    for (const s of rawSteps.filter((s) => s.run !== undefined)) expect(s.run).not.toMatch(/\$\{\{/);
    expect(JSON.stringify(rawSteps)).not.toMatch(/secrets\./);

    const uses = actionSteps(job).map((s) => s.uses.value.split('@')[0]);
    expect(uses).toEqual(['actions/checkout', 'actions/setup-node', './action', 'actions/upload-artifact']);
    // the pinned shards the App dispatches reach the Action, never a script
    expect(rawSteps.find((s) => s.uses === './action')!.with['data-pins']).toBe('${{ inputs.data_pins }}');
    // so do a replay's schedule and the App's seal key
    expect(rawSteps.find((s) => s.uses === './action')!.with).toMatchObject({ replay: '${{ inputs.replay }}', 'seal-key': '${{ inputs.seal_key }}', 'pace-floors': '${{ inputs.pace_floors }}' });
    expect(rawSteps.filter((s) => JSON.stringify(s).match(/inputs\.(replay|seal_key|pace_floors)\b/)).map((s) => s.uses)).toEqual(['./action']);
  });

  it('uploads result.json and train.log as result-<nonce>, even when the experiment failed', async () => {
    const w = await load('experiment.yml');
    const upload = (w.raw.jobs.experiment.steps as Record<string, any>[]).find((s) => String(s.uses).startsWith('actions/upload-artifact@'))!;
    expect(upload.if).toBe('always()');
    expect(upload.with.name).toBe('result-${{ inputs.nonce }}');
    expect(upload.with.path).toMatch(/result\.json/);
    expect(upload.with.path).toMatch(/train\.log/);
  });
});

describe('ci.yml and image.yml', () => {
  it('ci runs typecheck and tests with a read-only token', async () => {
    const w = await load('ci.yml');
    expect(w.raw.permissions).toEqual({ contents: 'read' });
    const runs = (w.raw.jobs.test.steps as Record<string, any>[]).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(expect.arrayContaining(['npm run typecheck', 'npm test']));
  });

  it('image publishes to GHCR on harness changes but not for train.ts alone', async () => {
    const w = await load('image.yml');
    expect(w.raw.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(w.template.events.push?.paths).toEqual(expect.arrayContaining(['trainer/**', '!trainer/train.ts']));
  });
});

describe('action/action.yml', () => {
  it('parses as an action running the committed bundle, with the documented inputs and outputs', () => {
    const content = readFileSync(join(ROOT, 'action', 'action.yml'), 'utf8');
    const result = parseAction({ name: 'action.yml', content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const raw = parseYaml(content);
    expect(raw.runs.using).toBe('node24');
    expect(raw.runs.main).toBe('dist/index.js');
    expect(existsSync(join(ROOT, 'action', raw.runs.main))).toBe(true);
    expect(Object.keys(raw.inputs)).toEqual(
      expect.arrayContaining(['sha', 'role', 'nonce', 'eval-seed', 'budget', 'isolation', 'pr', 'image', 'replay', 'seal-key']),
    );
    expect(Object.keys(raw.outputs).sort()).toEqual(['result-path', 'status', 'val_bpb']);
  });
});

// Red team of the workflows (who can do what to which job), beyond the properties above.
describe('attacks on the workflows', () => {
  /** The job's effective permissions, as one string (its own block, else the workflow's). */
  const permissionsOf = (w: Parsed, id: string) => JSON.stringify(w.raw.jobs[id].permissions ?? w.raw.permissions ?? 'missing');

  // A cache entry is readable by every later run of the default branch, and every job that runs
  // on the default branch can write one: the experiment job too, whose runtime token is on a
  // volunteer's machine (the runner owner is untrusted), and ci.yml on a push to main, which runs
  // the merged candidate's train.ts. Restoring one is running its author's code: actions/cache
  // extracts the archive with `tar -P` into the workspace, so any path (node_modules/.bin, the
  // checkout, ~) can be overwritten before the job's next step. So no job that signs, publishes,
  // holds a write permission or runs on a volunteer's machine restores a cache (setup-node's
  // `cache:` is one too); nor does ci.yml, whose verdict on a PR a poisoned entry could fake.
  it('no job restores an Actions cache', async () => {
    const offenders: string[] = [];
    for (const file of files) {
      const w = await load(file);
      for (const [id, job] of Object.entries<any>(w.raw.jobs ?? {})) {
        const steps: Record<string, any>[] = job.steps ?? [];
        for (const s of steps) {
          const uses = String(s.uses ?? '');
          if (uses.startsWith('actions/cache')) offenders.push(`${file} ${id}: ${uses.split('@')[0]}`);
          if (uses.startsWith('actions/setup-node@') && s.with?.cache !== undefined) offenders.push(`${file} ${id}: setup-node cache ${s.with.cache}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  // workflow_run matches the workflow that completed by its *name*, so a pull request's own
  // workflow named `pages` (or a PR's edited pages.yml) would start witness.yml, which holds
  // id-token: write and attestations: write, in the default branch's context.
  it('witness.yml attests only after a default-branch run of this repository\'s pages.yml', async () => {
    const w = await load('witness.yml');
    expect(Object.keys(w.template.events)).toContain('workflow_run');
    const [id] = Object.keys(w.raw.jobs);
    const condition: string = String(w.raw.jobs[id].if ?? 'true').replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
    const runs = (event: string, run?: Record<string, unknown>) => {
      const github = { event_name: event, repository: 'acme/autoresearch', event: { repository: { default_branch: 'main' }, ...(run ? { workflow_run: run } : {}) } };
      const ctx = JSON.parse(JSON.stringify({ github }), data.reviver);
      const parsed = new Parser(new Lexer(condition.trim()).lex().tokens, ['github'], []).parse();
      return new Evaluator(parsed, ctx).evaluate().coerceString() === 'true'; // the condition's result is a boolean
    };
    const pagesRun = { path: '.github/workflows/pages.yml', head_branch: 'main', event: 'schedule', head_repository: { full_name: 'acme/autoresearch' } };
    expect(runs('schedule')).toBe(true);
    expect(runs('workflow_dispatch')).toBe(true);
    expect(runs('workflow_run', pagesRun)).toBe(true);
    expect(runs('workflow_run', { ...pagesRun, event: 'workflow_dispatch' })).toBe(true);
    // a fork's pull request adding a workflow named `pages`, or editing pages.yml to run on pull_request
    expect(runs('workflow_run', { ...pagesRun, path: '.github/workflows/evil.yml', event: 'pull_request', head_repository: { full_name: 'mallory/autoresearch' } })).toBe(false);
    expect(runs('workflow_run', { ...pagesRun, event: 'pull_request', head_repository: { full_name: 'mallory/autoresearch' } })).toBe(false);
    // pages.yml as another branch carries it (push: ledger runs the ledger branch's copy)
    expect(runs('workflow_run', { ...pagesRun, head_branch: 'ledger', event: 'push' })).toBe(false);
  });

  // Script injection: an expression in a `run:` script is pasted into the shell before it runs,
  // so a value someone else chose (an input, a branch name, a title, a step's output) would be
  // code. Every workflow passes such values through `env:` instead.
  it('no run: script of any workflow interpolates an expression', async () => {
    for (const file of files) {
      const w = await load(file);
      for (const [id, job] of Object.entries<any>(w.raw.jobs ?? {})) {
        for (const s of (job.steps ?? []) as Record<string, any>[]) {
          if (s.run !== undefined) expect({ file, job: id, run: s.run }).toEqual({ file, job: id, run: expect.not.stringMatching(/\$\{\{/) });
        }
      }
    }
  });

  // Concurrency groups are repository-wide, across workflows: a run that joins another workflow's
  // group replaces that group's pending run (and cancels its running one with cancel-in-progress).
  // Each workflow's group starts with a literal of its own, and none is built from a value the
  // author of a pull request chooses (head_ref is a fork's branch name).
  it('no workflow\'s concurrency group can be steered into another workflow\'s', async () => {
    const prefixes: string[] = [];
    for (const file of files) {
      const w = await load(file);
      const groups = [w.raw.concurrency, ...Object.values<any>(w.raw.jobs ?? {}).map((j) => j.concurrency)].filter(Boolean).map((c) => (typeof c === 'string' ? c : c.group));
      for (const g of groups) {
        expect({ file, group: g }).toEqual({ file, group: expect.not.stringMatching(/head_ref|event\.pull_request|event\.issue|event\.comment|event\.workflow_run/) });
        const literal = /^([A-Za-z0-9_.]+)(-|$)/.exec(g)?.[1];
        expect({ file, literalPrefix: literal }).toEqual({ file, literalPrefix: expect.any(String) });
        prefixes.push(literal!);
      }
    }
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  // Least privilege, workflow by workflow: a new write permission or id-token is a decision,
  // made here, never a side effect of editing a workflow.
  it('each job holds exactly the token permissions it needs', async () => {
    const got: Record<string, string> = {};
    for (const file of files) {
      const w = await load(file);
      for (const id of Object.keys(w.raw.jobs ?? {})) got[`${file} ${id}`] = permissionsOf(w, id);
    }
    expect(got).toEqual({
      'ci.yml test': '{"contents":"read"}',
      'experiment.yml experiment': '{"contents":"read"}',
      'image.yml build-and-push': '{"contents":"read","packages":"write"}',
      'image.yml app-image': '{"contents":"read","packages":"write"}',
      'pages.yml build': '{"contents":"read"}',
      'pages.yml deploy': '{"pages":"write","id-token":"write"}',
      'tick.yml tick': '{}',
      'witness.yml attest-head': '{"contents":"read","id-token":"write","attestations":"write"}',
    });
  });
});
