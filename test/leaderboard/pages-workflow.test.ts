// pages.yml under GitHub's own workflow parser: it builds from the ledger branch with the
// generator of the default branch, and deploys with the official Pages actions.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import type { ActionStep, Job, RunStep } from '@actions/workflow-parser/model/workflow-template';
import { parse as parseYaml } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const content = readFileSync(join(ROOT, '.github', 'workflows', 'pages.yml'), 'utf8');

async function load() {
  const result = parseWorkflow({ name: 'pages.yml', content }, new NoOperationTraceWriter());
  expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  const template = await convertWorkflowTemplate(result.context, result.value!);
  expect((template.errors ?? []).map((e) => e.Message)).toEqual([]);
  return template;
}

describe('pages.yml', () => {
  it('runs on ledger pushes, on a schedule (the default branch copy) and on dispatch; only the deploy job may write to Pages', async () => {
    const template = await load();
    expect(Object.keys(template.events).sort()).toEqual(['push', 'schedule', 'workflow_dispatch']);
    expect(template.events.push?.branches).toEqual(['ledger']);
    const raw = parseYaml(content);
    expect(raw.permissions).toEqual({ contents: 'read' });
    expect(raw.jobs.build.permissions).toBeUndefined();
    expect(raw.jobs.deploy.permissions).toEqual({ pages: 'write', 'id-token': 'write' });
    for (const job of Object.values<Record<string, unknown>>(raw.jobs)) expect(job['timeout-minutes']).toEqual(expect.any(Number));
  });

  it('builds the ledger checkout with the generator and uploads exactly what it built', async () => {
    const template = await load();
    const build = template.jobs.find((j): j is Job => j.type === 'job' && j.id.value === 'build')!;
    const raw = parseYaml(content).jobs.build.steps as { uses?: string; run?: string; with?: Record<string, string> }[];
    const checkouts = raw.filter((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkouts.map((s) => s.with?.ref)).toEqual(['${{ github.event.repository.default_branch }}', 'ledger']);
    const ledgerPath = checkouts[1].with?.path;
    const runs = build.steps.filter((s): s is RunStep => 'run' in s).map((s) => s.run.toString());
    const buildCmd = runs.map((r) => /npm run leaderboard -- build (\S+) (\S+)/.exec(r)).find(Boolean);
    expect(buildCmd?.[1]).toBe(ledgerPath);
    const upload = raw.find((s) => s.uses?.startsWith('actions/upload-pages-artifact@'));
    expect(upload?.with?.path).toBe(buildCmd?.[2]);
    // the script the workflow calls is the one package.json defines
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.leaderboard).toMatch(/^(node scripts\/need-install\.mjs tsx && )?tsx leaderboard\/src\/cli\.ts$/);
  });

  // Session 16: no Actions cache. Any default-branch job can write an entry this job would read (an
  // experiment run's runtime token is on a volunteer's machine), and actions/cache extracts it over
  // the workspace, code in the job whose output is deployed (test/workflows/workflows.test.ts has
  // the attack). So every build verifies and renders the whole ledger.
  it('builds the whole site from the two checkouts alone: no Actions cache is restored, none is saved', async () => {
    const template = await load();
    const build = template.jobs.find((j): j is Job => j.type === 'job' && j.id.value === 'build')!;
    expect(build.steps.length).toBeGreaterThan(0);
    const raw = parseYaml(content).jobs.build.steps as { uses?: string; run?: string; with?: Record<string, string> }[];
    expect(raw.filter((s) => /^actions\/cache(\/|@)/.test(s.uses ?? ''))).toEqual([]);
    expect(raw.filter((s) => s.with?.cache !== undefined)).toEqual([]);
    const buildRun = raw.find((s) => /npm run leaderboard -- build/.test(s.run ?? ''))!.run!;
    expect(buildRun).not.toMatch(/--cache/);
  });

  it('deploys with actions/deploy-pages to the github-pages environment after the build', async () => {
    const template = await load();
    const deploy = template.jobs.find((j): j is Job => j.type === 'job' && j.id.value === 'deploy')!;
    expect(deploy.needs?.map((n) => n.value)).toEqual(['build']);
    const uses = deploy.steps.filter((s): s is ActionStep => 'uses' in s).map((s) => s.uses.value);
    expect(uses).toEqual([expect.stringMatching(/^actions\/deploy-pages@[0-9a-f]{40}$/)]);
    expect(parseYaml(content).jobs.deploy.environment.name).toBe('github-pages');
  });
});
