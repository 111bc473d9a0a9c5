// A job that leaves no result runs again on another owner's runner, so the harness must end every
// run itself, with the candidate's failure, before the Action's backstop kills it and before GitHub
// cancels the job at experiment.yml's timeout-minutes: for every budget and role the App dispatches.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { LONG_RUN_BUDGETS } from '../../app/policy/long-run.js';
import { harnessBackstopSeconds } from '../../action/src/harness.js';
import { backstopSeconds, minJobTimeoutMinutes, runDeadlineSeconds } from '../../trainer/run-deadline.js';

const ROOT = join(import.meta.dirname, '..', '..');
const raw = parseYaml(readFileSync(join(ROOT, '.github', 'workflows', 'experiment.yml'), 'utf8'));
const expression = String(raw.jobs.experiment['timeout-minutes']).replace(/^\$\{\{\s*/, '').replace(/\s*\}\}$/, '');

/** timeout-minutes as GitHub evaluates it for a dispatch of `budget` seconds, replaying a schedule or not. */
function timeoutMinutes(budget: number, replay: boolean): number {
  const ctx = JSON.parse(JSON.stringify({ inputs: { budget: String(budget), replay: replay ? '{"steps":1}' : '' } }), data.reviver);
  const parsed = new Parser(new Lexer(expression).lex().tokens, ['inputs'], [{ name: 'fromJSON', description: '', minArgs: 1, maxArgs: 1 }]).parse();
  return Number(new Evaluator(parsed, ctx).evaluate().coerceString());
}

// the default 300 s, any configured budget (the Action accepts up to 86400), and the long runs' budgets
const budgets = [1, 60, 299, 300, 301, 600, 900, 901, 1200, 1800, 2400, 3600, 5000, 7200, 10000, 14400, 20000, 43200, 86400, ...Object.values(LONG_RUN_BUDGETS)];

describe('deadlines: harness < Action backstop < the job timeout, for every dispatch', () => {
  for (const replay of [false, true]) {
    it(`${replay ? 'a replay (verify, baseline or candidate)' : 'a run on the clock (candidate, verify, baseline)'}: the job outlives the backstop, which outlives the harness's deadline`, () => {
      for (const b of budgets) {
        const harness = runDeadlineSeconds(b, replay);
        // the harness's work before and after the candidate's fits between its deadline and the backstop
        expect(backstopSeconds(b, replay)).toBeGreaterThanOrEqual(harness + 300);
        // the Action kills the harness only then (before: 2 budgets + 15 minutes, under a replay's 3 budgets)
        expect(harnessBackstopSeconds({ budget: b, replay: replay ? '{"steps":1}' : '' })).toBe(backstopSeconds(b, replay));
        // setup (npm ci, image pull) and the upload fit between the backstop and the job's timeout
        expect({ budget: b, replay, minutes: timeoutMinutes(b, replay) }).toEqual({ budget: b, replay, minutes: expect.any(Number) });
        expect(timeoutMinutes(b, replay) * 60).toBeGreaterThanOrEqual(backstopSeconds(b, replay) + 600);
        expect(timeoutMinutes(b, replay)).toBeGreaterThanOrEqual(minJobTimeoutMinutes(b, replay));
        // GitHub's limit for a self-hosted runner's job: 5 days
        expect(timeoutMinutes(b, replay)).toBeLessThanOrEqual(5 * 24 * 60);
      }
    });
  }

  it('a replay may train 3 budgets and still be evaluated: 45 minutes of a 900 s budget no longer meets a 35-minute job', () => {
    expect(runDeadlineSeconds(900, true)).toBeGreaterThan(3 * 900);
    expect(timeoutMinutes(900, true) * 60).toBeGreaterThan(backstopSeconds(900, true));
  });
});
