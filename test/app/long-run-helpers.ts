// The long-run issue form as GitHub renders it, and credits given the way the swarm gives them:
// shared by the long-run tests (test/app/long-run.test.ts, test/app/red-team-credits.test.ts).
import { World, CLASS } from './world.js';
import { appendEntries, creditForResult, ledgerFiles, type NewEntry } from '../../ledger/index.js';

/** An issue body as GitHub renders the long-run form (`### <label>` then the value). */
export function form(f: { target?: string; budget?: string; hardware_class?: string; max_credits?: string; why?: string; terms?: boolean }): string {
  const v = { target: '#7', budget: '30 minutes', hardware_class: '', max_credits: '5000', why: 'See whether the gain holds at 6x the steps.', terms: true, ...f };
  return [
    ['What to run', v.target],
    ['Training budget', v.budget],
    ['Hardware class', v.hardware_class || '_No response_'],
    ['Most credits to spend', v.max_credits],
    ['Why', v.why || '_No response_'],
    ['Terms', `- [${v.terms ? 'X' : ' '}] I understand the credits are spent when the run is dispatched, whatever its result.`],
  ]
    .map(([label, value]) => `### ${label}\n\n${value}`)
    .join('\n\n');
}

/** Gives runner-a's owner alice (or runner-b's bob) `seconds` credits for a validated baseline run, granted by the ledger's rule. */
export function fund(w: World, runner: string, seconds: number, tag = ''): void {
  const entries = w.ledger();
  const d = { inputs: { budget: String(seconds), eval_seed: '1', sha: w.main, role: 'baseline', nonce: `seed-${runner}${tag}`, pr: '' } };
  const result = w.result(d, runner, 1, 2.0, (r) => (r.train_seconds = seconds));
  const job: NewEntry[] = [
    { type: 'job_dispatched', data: { job_id: d.inputs.nonce, role: 'baseline', repo: 'Codertocat/Hello-World', pr: null, sha: w.main, author: null, hardware_class: CLASS, eval_seed: 1, budget_seconds: seconds, attempt: 1, verifies: null } },
    {
      type: 'result_recorded',
      data: { job_id: d.inputs.nonce, role: 'baseline', pr: null, sha: w.main, title: null, author: null, runner_name: runner, runner_owner: runner === 'runner-a' ? 'alice' : 'bob', run_url: null, validated: true, reason: null, result, diff_path: null, diff_sha256: null, log_excerpt: null },
    },
  ];
  const withJob = [...entries, ...appendEntries(entries, job.map((e) => ({ ...e, time: '2026-11-24T11:30:00.000Z' })))];
  const grant = creditForResult(withJob, d.inputs.nonce)!;
  const all = [...withJob, ...appendEntries(withJob, [{ ...grant, time: '2026-11-24T11:31:00.000Z' }])];
  w.gh.refs.set('heads/ledger', w.gh.commit(ledgerFiles(all), w.gh.refs.get('heads/ledger')!, 'fund'));
}
