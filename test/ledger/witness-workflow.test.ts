// The witness must run on GitHub's machines with only the rights to sign, verify the ledger
// before signing, and sign the head that `npm run ledger -- head` computes from the verified entries.
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import type { ActionStep, Job, RunStep } from '@actions/workflow-parser/model/workflow-template';

const file = join(import.meta.dirname, '..', '..', '.github', 'workflows', 'witness.yml');

async function load() {
  const content = readFileSync(file, 'utf8');
  const result = parseWorkflow({ name: 'witness.yml', content }, new NoOperationTraceWriter());
  expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  const template = await convertWorkflowTemplate(result.context, result.value!);
  expect((template.errors ?? []).map((e) => e.Message)).toEqual([]);
  return { template, raw: parseYaml(content) as Record<string, any> };
}

describe('witness.yml', () => {
  it('holds only the rights to read and sign, on a GitHub-hosted runner', async () => {
    const { raw } = await load();
    expect(raw.permissions).toEqual({ contents: 'read', 'id-token': 'write', attestations: 'write' });
    for (const job of Object.values<any>(raw.jobs)) {
      expect(job.permissions).toBeUndefined();
      expect(job['runs-on']).toBe('ubuntu-latest');
    }
  });

  it('runs after each leaderboard build, on demand and hourly; never on a push it could not see', async () => {
    const { template, raw } = await load();
    expect(Object.keys(template.events).sort()).toEqual(['schedule', 'workflow_dispatch', 'workflow_run']);
    expect(raw.on.workflow_run).toEqual({ workflows: ['pages'], types: ['completed'] });
  });

  it('verifies the ledger, writes its head with the ledger CLI, then attests that file with a pinned attest-build-provenance', async () => {
    const { template, raw } = await load();
    const job = template.jobs[0] as Job;
    const steps = job.steps;
    const uses = steps.filter((s): s is ActionStep => 'uses' in s).map((s) => s.uses.value);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    const runs = (re: RegExp) => steps.findIndex((s) => 'run' in s && re.test(String((s as RunStep).run.toString())));
    const verify = runs(/npm run ledger -- verify ledger-checkout/);
    // --silent: npm's own banner lines would otherwise land in the signed file
    const head = runs(/^npm run --silent ledger -- head ledger-checkout > ledger-head\.json$/);
    const attest = steps.findIndex((s) => 'uses' in s && (s as ActionStep).uses.value.startsWith('actions/attest-build-provenance@'));
    expect(verify).toBeGreaterThan(-1);
    expect(head).toBeGreaterThan(verify);
    expect(attest).toBeGreaterThan(head);
    expect(raw.jobs[job.id.value].steps[attest].with).toEqual({ 'subject-path': 'ledger-head.json' });
  });
});
