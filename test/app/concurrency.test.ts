// experiment.yml's concurrency group, evaluated with GitHub's own expression evaluator for the
// dispatches the App really makes. GitHub keeps at most one running and one pending run per group
// and cancels any other pending one, so two jobs the App dispatched must never share a group.
import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { parse as parseYaml } from 'yaml';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { World } from './world.js';

function groupOf(inputs: Record<string, string>): string {
  const wf = parseYaml(readFileSync('.github/workflows/experiment.yml', 'utf8'));
  const template: string = wf.concurrency.group;
  return template.replace(/\$\{\{(.*?)\}\}/g, (_m, expr: string) => {
    const lexed = new Lexer(expr.trim()).lex();
    const parsed = new Parser(lexed.tokens, ['inputs', 'github'], []).parse();
    const ctx = new data.Dictionary({ key: 'inputs', value: new data.Dictionary(...Object.entries(inputs).map(([key, v]) => ({ key, value: new data.StringData(v) }))) });
    return new Evaluator(parsed, ctx).evaluate().coerceString();
  });
}

afterEach(() => nock.cleanAll());

describe('experiment.yml concurrency', () => {
  it('the ten baseline runs (the default baseline_runs) of one class dispatched on install each have a group of their own', async () => {
    const w = new World({ seed: [] });
    await w.install();
    const baselines = w.gh.dispatches.filter((d) => d.inputs.role === 'baseline');
    expect(baselines).toHaveLength(10);
    const groups = baselines.map((d) => groupOf(d.inputs));
    expect(new Set(groups).size).toBe(10);
    // and the group names the job, so a re-dispatch of the same nonce waits for its twin
    for (const [i, d] of baselines.entries()) expect(groups[i]).toContain(d.inputs.nonce);
  });
});
