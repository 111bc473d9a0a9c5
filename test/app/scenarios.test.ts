import { describe, it, expect } from '@jest/globals';
import nock from 'nock';
import { recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { auditEachWorld, World, CLASS } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

// whatever happened, the ledger the App wrote must pass the ledger's own audit
// (hash chain, every grant backed by a validated result and a baseline, no overdraft, free tier)
auditEachWorld();

/** The runner that takes a dispatch: the one its owner label names (else the first idle one of the class). */
const runnerOf = (w: World, d: { inputs: Record<string, string> }) => (w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label)) ?? w.gh.runners.find((r) => !r.busy))!.name;

describe('validate and dispatch', () => {
  it('a valid PR is given a check run and dispatched from the default branch; its result brings the label and the comment', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    // while it runs, the check run says so; no label, no comment yet (each would be a call and a notification)
    expect(w.gh.labelsOf(7)).toEqual([]);
    expect(w.gh.stickyOf(7)).toEqual([]);
    const [check] = w.gh.checksOf(head);
    expect(check).toMatchObject({ status: 'in_progress', title: 'Running' });
    expect(w.gh.dispatches).toHaveLength(1);
    const d = w.gh.dispatches[0];
    expect(d).toMatchObject({ workflow: 'experiment.yml', ref: 'refs/heads/main', inputs: { pr: '7', sha: head, role: 'candidate', budget: '300', runner_label: 'autoresearch' } });
    const [job] = w.entries('job_dispatched');
    expect(job.data).toMatchObject({ job_id: d.inputs.nonce, role: 'candidate', pr: 7, sha: head, author: 'octo-agent', eval_seed: Number(d.inputs.eval_seed), attempt: 1, title: 'Experiment 7', pr_author: 'octo-agent' });
    expect(w.entries('credit_spent')[0].data).toMatchObject({ login: 'octo-agent', amount: 0, reason: 'free_tier', job_id: d.inputs.nonce });
    await w.complete(d, 'runner-a', 1.99);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    const [comment] = w.gh.stickyOf(7);
    expect(comment).toMatch(/^<!-- autoresearch:sticky -->\n### No improvement/);
    expect(w.gh.stickyOf(7)).toHaveLength(1);
  });

  it('a redelivered pull_request event dispatches nothing twice', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD }, 'opened', { deliveries: 2 });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('job_dispatched')).toHaveLength(1);
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)).toHaveLength(1);
  });
});

describe('validation', () => {
  it('a PR touching .github/ and the harness is rejected with one clear comment, and nothing runs', async () => {
    const w = new World();
    const before = w.ledger().length;
    const head = await w.push(8, 'octo-agent', { 'trainer/train.ts': GOOD, '.github/workflows/experiment.yml': 'on: push\n', 'trainer/bpb.ts': 'export const bits = 1;\n' });
    expect(w.gh.labelsOf(8)).toEqual(['experiment:invalid']);
    const [comment] = w.gh.stickyOf(8);
    expect(comment).toContain('### Experiment not accepted');
    expect(comment).toContain('`.github/workflows/experiment.yml`, `trainer/bpb.ts`, but an experiment may change only `trainer/train.ts`');
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'Not an experiment' });
    expect(w.gh.dispatches).toEqual([]);
    // the ledger records that this commit was seen and set aside (so the tick's reconcile pass leaves it)
    expect(w.ledger().slice(before).map((e) => e.type)).toEqual(['experiment_rejected']);
  });

  it('a push that fixes the PR edits the same sticky comment and dispatches', async () => {
    const w = new World();
    await w.push(9, 'octo-agent', { 'trainer/train.ts': GOOD, 'README.md': 'x' });
    expect(w.gh.labelsOf(9)).toEqual(['experiment:invalid']);
    await w.push(9, 'octo-agent', { 'trainer/train.ts': GOOD }, 'synchronize');
    expect(w.gh.stickyOf(9)).toHaveLength(1);
    expect(w.gh.stickyOf(9)[0]).toContain('### Experiment running');
    expect(w.gh.labelsOf(9)).toEqual([]); // the invalid label went; the check run says it runs
    expect(w.gh.dispatches).toHaveLength(1);
  });
});

describe('score, verify, merge', () => {
  it('an improvement verified by a second owner is merged with the sha guard, credited and followed by baselines', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const claim = w.gh.dispatches[0];
    await w.complete(claim, 'runner-a', 1.9);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    const verify = w.gh.dispatches[1];
    expect(verify.inputs).toMatchObject({ role: 'verify', sha: head, runner_label: 'owner-bob' });
    expect(w.entries('job_dispatched')[1].data).toMatchObject({ role: 'verify', verifies: claim.inputs.nonce, author: null });
    expect(w.gh.merges).toEqual([]);

    await w.complete(verify, 'runner-b', 1.905);
    expect(w.gh.merges).toHaveLength(1);
    const m = w.gh.merges[0];
    expect(m).toMatchObject({ pr: 7, sha: head, title: 'Experiment 7 (#7)' });
    expect(m.message).toMatch(/val_bpb 1\.9050 \(claim 1\.9000\) on gpu-test; baseline 2\.0000 ± 0\.0100 \(n=41\); threshold 1\.9676/); // 2 - widen(k 4, df 40) * 0.01 * sqrt(1/2 + 1/41)
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
    const check = w.gh.checksOf(head)[0];
    expect(check).toMatchObject({ status: 'completed', conclusion: 'success', title: 'Merged' });
    expect(check.summary).toContain('| baseline on gpu-test | 2.0000 ± 0.0100 (n=41');
    expect(check.summary).toContain('runner-b (owner bob)');
    expect(w.entries('verification')[0].data).toMatchObject({ job_id: claim.inputs.nonce, agreed: true, claim_bpb: 1.9, verify_bpb: 1.905 });
    expect(w.entries('experiment_merged')[0].data).toMatchObject({ pr: 7, sha: head, merge_sha: m.merge_sha, val_bpb: 1.9, baseline_mean: 2.0 });
    // the verifier is credited with the merge intent, the claim once the merge is recorded
    expect(w.entries('credit_granted').map((g) => [g.data.login, g.data.amount]).sort()).toEqual([
      ['alice', 300],
      ['bob', 300],
    ]);
    const results = w.entries('result_recorded');
    expect(results[0].data).toMatchObject({ validated: true, runner_owner: 'alice', diff_path: null, title: 'Experiment 7', author: 'octo-agent' });
    // the diff is archived in the entry itself, against the default branch the run used
    expect(results[0].data.diff).toContain('+export const LR = 6e-4;');
    expect(results[0].data.diff).toContain('-export const LR = 3e-4;');
    // baselines of the new main on the class: baseline_runs (default 10) less the claim's two runs,
    // which ran the new main's train.ts and count as its first samples (docs/trust.md 2a)
    expect(w.entries('experiment_merged')[0].data.baseline_job_ids).toEqual([claim.inputs.nonce, verify.inputs.nonce]);
    const baselines = w.gh.dispatches.slice(2);
    expect(baselines).toHaveLength(8);
    expect(baselines.every((b) => b.inputs.role === 'baseline' && b.inputs.sha === m.merge_sha && b.inputs.runner_label === CLASS)).toBe(true);
  });

  it('a result that does not improve is discarded (and the next queued PR runs)', async () => {
    const w = new World({ config: 'max_in_flight: 1\nclose_on_discard: true\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const second = await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.labelsOf(8)).toEqual(['experiment:queued']);
    expect(w.gh.checksOf(second)[0]).toMatchObject({ status: 'queued' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.pulls.get(7)!.state).toBe('closed');
    expect(w.gh.checksOf(head)[0]).toMatchObject({ conclusion: 'neutral', title: 'No improvement' });
    expect(w.gh.stickyOf(7)[0]).toMatch(/Discarded: val_bpb 1\.9900 does not beat 1\.9899/);
    expect(w.entries('experiment_discarded')[0].data).toMatchObject({ pr: 7, sha: head, val_bpb: 1.99 });
    expect(w.entries('credit_granted')[0].data).toMatchObject({ login: 'alice', amount: 300, class_weight: 1 });
    // the freed slot went to the queued PR
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '8', sha: second, role: 'candidate' });
    expect(w.gh.labelsOf(8)).toEqual([]);
    expect(w.gh.checksOf(second)[0]).toMatchObject({ status: 'in_progress' });
  });

  it('a verify run that disagrees is settled by more owners: once three agree against it the claim is refuted, discarded, never merged or credited, and its runner faulted', async () => {
    const w = new World();
    w.gh.runners.push({ id: 3, name: 'runner-c', status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-carol'] });
    w.gh.runners.push({ id: 4, name: 'runner-d', status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-dave'] });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], runnerOf(w, w.gh.dispatches[1]), 1.99);
    await w.complete(w.gh.dispatches[2], runnerOf(w, w.gh.dispatches[2]), 1.995);
    // two owners agree against alice's claim: not yet enough to outvote it (trust.outvote_quorum 3)
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    expect(w.entries('owner_faulted')).toEqual([]);
    const third = w.gh.dispatches[3];
    expect(third.inputs).toMatchObject({ role: 'verify', pr: '7' });
    expect(['owner-alice', w.gh.dispatches[1].inputs.runner_label, w.gh.dispatches[2].inputs.runner_label]).not.toContain(third.inputs.runner_label);
    await w.complete(third, runnerOf(w, third), 1.992);
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('verification').map((v) => [v.data.agreed, v.data.claim_bpb, v.data.verify_bpb])).toEqual([
      [false, 1.9, 1.99],
      [false, 1.9, 1.995],
      [false, 1.9, 1.992],
    ]);
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['alice']);
    expect(w.entries('credit_granted').map((g) => g.data.login).sort()).toEqual(['bob', 'carol', 'dave']);
  });

  it('a runner is credited for at most the job time GitHub measured, whatever result.json claims', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    // result.json claims 300 s of training; GitHub's jobs API says the whole job took 40 s
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { jobSeconds: 40 });
    const [r] = w.entries('result_recorded');
    expect(r.data).toMatchObject({ validated: true, job_seconds: 40 });
    expect(r.data.result!.train_seconds).toBe(300);
    expect(w.entries('credit_granted')[0].data).toMatchObject({ login: 'alice', train_seconds: 40, amount: 40 });
  });

  it('a runner of a fleet (not in the ledger registry) is credited to the owner its label names', async () => {
    const w = new World();
    w.gh.runners.push({ id: 9, name: 'arc-runner-x1', status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-fleet-corp'] });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'arc-runner-x1', 1.99);
    expect(w.entries('result_recorded')[0].data).toMatchObject({ runner_name: 'arc-runner-x1', runner_owner: 'fleet-corp', validated: true });
    expect(w.entries('credit_granted')[0].data).toMatchObject({ login: 'fleet-corp' });
  });

  it('a verify run on the claimant\'s own runner does not count: verified again elsewhere', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-a', 1.9);
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.dispatches[2].inputs).toMatchObject({ role: 'verify', runner_label: 'owner-bob' });
    await w.complete(w.gh.dispatches[2], 'runner-b', 1.91);
    expect(w.gh.merges).toHaveLength(1);
  });

  it('when the default branch moved since the baseline, a verified PR is re-queued against the new head', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    const verify = w.gh.dispatches[1];
    const ranOn = w.gh.refs.get('heads/main')!;
    w.gh.refs.set('heads/main', w.gh.commit({ 'docs/x.md': 'moved' }, ranOn, 'another merge'));
    await w.complete(verify, 'runner-b', 1.9, { headSha: ranOn });
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.stickyOf(7)[0]).toMatch(/Verified against `.{7}`, but `main` is now `.{7}`; re-queued/);
    const again = w.gh.dispatches[2];
    expect(again.inputs).toMatchObject({ role: 'candidate', sha: head, pr: '7' });
    expect(w.gh.labelsOf(7)).toEqual([]);
  });
});

describe('forged results', () => {
  const forgeries: [string, (r: any) => void, RegExp][] = [
    ['wrong nonce', (r) => (r.job.nonce = 'f'.repeat(24)), /nonce f+ is not the nonce/],
    ['wrong harness hash', (r) => (r.harness_sha256 = 'a'.repeat(64)), /harness sha256 a+ is not the default branch's/],
    ['wrong candidate hash', (r) => (r.candidate_sha256 = 'b'.repeat(64)), /candidate sha256 b+ is not the sha256/],
  ];
  for (const [name, tamper, reason] of forgeries) {
    it(`${name}: rejected, recorded with the reason, run again elsewhere, earns nothing`, async () => {
      const w = new World();
      const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
      await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { tamper });
      const [rec] = w.entries('result_recorded');
      expect(rec.data.validated).toBe(false);
      expect(rec.data.reason).toMatch(reason);
      expect(rec.data.runner_owner).toBe('alice');
      expect(w.gh.merges).toEqual([]);
      expect(w.entries('credit_granted')).toEqual([]);
      expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'candidate', sha: head });
      expect(w.entries('job_dispatched')[1].data).toMatchObject({ attempt: 2, author: null });
      expect(w.gh.checksOf(head)[0].summary).toMatch(/The result was rejected/);
    });
  }

  it('an artifact naming another job than the run was dispatched for rejects the run\'s own job (the job is the run title\'s, never the artifact\'s)', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    await w.complete(d, 'runner-a', 1.5, { artifactName: 'result-1-1-' + 'e'.repeat(24) });
    const [rec] = w.entries('result_recorded');
    expect(rec.data).toMatchObject({ job_id: d.inputs.nonce, validated: false, reason: expect.stringMatching(/instead of result-/) });
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });

  it('an artifact from a run the App did not dispatch (a PR-triggered copy of the workflow) is ignored', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 0.5, { event: 'pull_request' });
    expect(w.entries('result_recorded')).toEqual([]);
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)[0]).toMatchObject({ status: 'in_progress' });
  });
});

describe('idempotence and resilience', () => {
  it('a webhook delivered twice records, labels and grants once', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { deliveries: 2 });
    expect(w.entries('result_recorded')).toHaveLength(1);
    expect(w.entries('experiment_discarded')).toHaveLength(1);
    expect(w.entries('credit_granted')).toHaveLength(1);
  });

  it('a verify result delivered twice merges once', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.9, { deliveries: 2 });
    expect(w.gh.merges).toHaveLength(1);
    expect(w.entries('experiment_merged')).toHaveLength(1);
  });

  it('two App processes handling the same verify result at once merge once and grant once', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.9, { processes: [w.probot, w.makeProbot()] });
    expect(w.gh.merges).toHaveLength(1);
    expect(w.entries('experiment_merged')).toHaveLength(1);
    expect(w.entries('result_recorded').map((r) => r.data.job_id)).toEqual([w.gh.dispatches[0].inputs.nonce, w.gh.dispatches[1].inputs.nonce]);
    expect(w.entries('credit_granted').map((g) => g.data.login).sort()).toEqual(['alice', 'bob']);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
  });

  it('a ledger write that lost a race to another App process (409) is re-read and re-sequenced, not resent as it was', async () => {
    const w = new World({ retries: true, config: 'max_in_flight: 10\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const a = w.probot;
    w.probot = w.makeProbot(); // a second process appends: the first one's view of the tail is now stale
    await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    w.probot = a;
    resetRecordedCalls();
    await w.push(9, 'third-agent', { 'trainer/train.ts': 'export const LR = 2e-3;\n' });
    const puts = recordedCalls().filter((c) => c === 'PUT /repos/{owner}/{repo}/contents/{path}');
    expect(puts).toHaveLength(2); // refused once (409), then written on the re-read tail
    expect(w.entries('job_dispatched').map((j) => j.data.pr)).toEqual([7, 8, 9]);
  });

  it('GitHub answering 500 then 200: the request is retried and the PR dispatched', async () => {
    const w = new World({ retries: true });
    w.gh.faults.push({ method: 'POST', path: /\/dispatches$/, status: 500 });
    w.gh.faults.push({ method: 'POST', path: /\/check-runs$/, status: 502 });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.faults).toEqual([]);
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)).toHaveLength(1);
  });

  it('a rate limit with retry-after is waited out and retried', async () => {
    const w = new World({ retries: true });
    w.gh.faults.push({
      method: 'POST',
      path: /\/check-runs$/,
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
      headers: { 'retry-after': '1' },
    });
    // the throttling plugin waits retry-after seconds x retryAfterBaseValue (1 ms in tests), then retries
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.faults).toEqual([]);
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)).toHaveLength(1);
    expect(w.gh.dispatches).toHaveLength(1);
  });
});

describe('configuration, baselines and deadlines', () => {
  it('without .github/autoresearch.yml a verified improvement is labelled and reported but never merged', async () => {
    // the default quorum (2) needs three owners: a third runner, carol's
    const carol = { runner_name: 'runner-c', owner: 'carol', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-carol'], owner_created_at: '2015-01-01T00:00:00Z' };
    const w = new World({ config: null });
    w.seedLedger([...w.entries('runner_registered'), ...w.entries('baseline_recorded'), { type: 'runner_registered', data: carol }].map((e) => ({ type: e.type, data: e.data })) as Parameters<World['seedLedger']>[0]);
    w.gh.runners.push({ id: 3, name: 'runner-c', status: 'online', busy: false, labels: carol.labels });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.checksOf(head)[0].summary).toMatch(/no `.github\/autoresearch.yml`, so the App scores experiments but never merges or closes/);
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.stickyOf(7)[0]).toMatch(/no `.github\/autoresearch.yml`, so the App scores experiments but never merges or closes/);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.9);
    await w.complete(w.gh.dispatches[2], 'runner-c', 1.91);
    // every owner is on probation (the default policy): the verify runs count once other owners' replays reproduce them
    const scores = new Map([[w.gh.dispatches[1].inputs.seed, 1.9], [w.gh.dispatches[2].inputs.seed, 1.91]]);
    for (let d; (d = w.gh.dispatches.find((x, i) => i > 2 && x.inputs.replay && !w.entries('result_recorded').some((r) => r.data.job_id === x.inputs.nonce))); ) {
      await w.complete(d, w.gh.runners.find((r) => r.labels.includes(d!.inputs.runner_label))!.name, scores.get(d.inputs.seed)!);
    }
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.pulls.get(7)!.state).toBe('open');
    expect(w.gh.labelsOf(7)).toEqual(['experiment:improvement']);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ conclusion: 'success', title: 'Verified improvement (not merged)' });
  });

  it('an invalid config is named on the PR and nothing is merged', async () => {
    const w = new World({ config: 'margin:\n  k: three\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.checksOf(head)[0].summary).toMatch(/`.github\/autoresearch.yml` is invalid at `margin.k`/);
  });

  it('a result from a class without a baseline triggers baseline runs; once the baseline exists its score is judged, not trained again', async () => {
    const w = new World({
      config: 'max_in_flight: 10\nbaseline_runs: 2\n',
      seed: [
        { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: [] } },
        { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: [] } },
      ],
    });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:waiting-baseline']);
    const baselines = w.gh.dispatches.slice(1);
    expect(baselines.map((d) => [d.inputs.role, d.inputs.sha, d.inputs.runner_label])).toEqual([
      ['baseline', w.main, CLASS],
      ['baseline', w.main, CLASS],
    ]);
    await w.complete(baselines[0], 'runner-a', 2.0);
    expect(w.entries('baseline_recorded')).toEqual([]);
    await w.complete(baselines[1], 'runner-b', 2.02);
    const [b] = w.entries('baseline_recorded');
    expect(b.data).toMatchObject({ hardware_class: CLASS, sha: w.main, n: 2, mean: 2.01 });
    expect(b.data.sigma).toBeCloseTo(0.01414, 4);
    // baseline runs are credited to their runners' owners at once
    expect(w.entries('credit_granted').map((g) => g.data.login).sort()).toEqual(['alice', 'bob']);
    // the waiting PR's score (1.9) beats the new baseline's threshold: it goes to verification
    // on a runner of another owner, without a second candidate run
    expect(w.gh.dispatches).toHaveLength(4);
    expect(w.gh.dispatches[3].inputs).toMatchObject({ role: 'verify', sha: head, pr: '7', runner_label: 'owner-bob' });
    expect(w.entries('job_dispatched').at(-1)!.data).toMatchObject({ role: 'verify', verifies: w.gh.dispatches[0].inputs.nonce });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'in_progress', title: 'Improvement claimed; verifying' });
    await w.complete(w.gh.dispatches[3], 'runner-b', 1.905);
    // the class's sigma rests on two runs (one degree of freedom): the merge bound widens (Student t)
    // far beyond what two agreeing runs reach, so the claim needs yet another owner, not merged;
    // the class has none (before: sent to the class label, refused on alice's or bob's runner and run
    // again until max_attempts), and no other class: discarded at once, saying so
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.dispatches).toHaveLength(4);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('experiment_discarded')[0].data.reason).toMatch(/^no owner but alice, bob and octo-agent has a runner on \S+, so no independent run can verify the claim/);
  });

  it('a waiting PR whose score does not beat the new baseline is discarded without training again', async () => {
    const w = new World({
      config: 'max_in_flight: 10\nbaseline_runs: 2\n',
      seed: [
        { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: [] } },
        { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: [] } },
      ],
    });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.0);
    await w.complete(w.gh.dispatches[1], 'runner-a', 2.0);
    await w.complete(w.gh.dispatches[2], 'runner-b', 2.02);
    expect(w.gh.dispatches).toHaveLength(3);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('experiment_discarded')[0].data).toMatchObject({ pr: 7, sha: head, val_bpb: 2.0, hardware_class: CLASS });
    expect(w.gh.checksOf(head)[0]).toMatchObject({ conclusion: 'neutral', title: 'No improvement' });
    expect(w.gh.stickyOf(7)).toHaveLength(1);
    expect(w.gh.stickyOf(7)[0]).toMatch(/Judged against the new gpu-test baseline: discarded, val_bpb 2\.0000 does not beat/);
    // decided: the candidate run is credited now, with the baseline runs
    expect(w.entries('credit_granted').map((g) => g.data.job_id)).toContain(w.gh.dispatches[0].inputs.nonce);
    // a redelivered baseline result judges nothing twice
    await w.complete(w.gh.dispatches[2], 'runner-b', 2.02);
    expect(w.entries('experiment_discarded')).toHaveLength(1);
  });

  it('a job that misses its deadline (from its start on a runner) is dispatched again, credited to no one', async () => {
    const w = new World({ config: 'deadline_minutes: 30\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.start(w.gh.dispatches[0], 'runner-a');
    w.clock = new Date(w.clock.getTime() + 31 * 60_000);
    await w.tick();
    await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    const [closed] = w.entries('result_recorded');
    expect(closed.data).toMatchObject({ pr: 7, validated: false, reason: 'no result within 30 minutes of its start on runner-a (attempt 1)' });
    const again = w.entries('job_dispatched').find((j) => j.data.pr === 7 && j.data.attempt === 2)!;
    expect(again.data).toMatchObject({ sha: head, author: null });
    expect(w.entries('credit_spent').filter((c) => c.data.job_id === again.data.job_id)).toEqual([]);
    expect(w.gh.dispatches.map((d) => d.inputs.pr)).toEqual(['7', '7', '8']);
  });

  it('with no other event, the scheduled tick re-dispatches an overdue job; a tick from a PR branch does nothing', async () => {
    const w = new World({ config: 'deadline_minutes: 30\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.start(w.gh.dispatches[0], 'runner-a');
    w.clock = new Date(w.clock.getTime() + 31 * 60_000);
    await w.tick({ event: 'pull_request', branch: 'evil' });
    expect(w.gh.dispatches).toHaveLength(1);
    await w.tick();
    expect(w.entries('result_recorded')[0].data).toMatchObject({ pr: 7, validated: false, reason: 'no result within 30 minutes of its start on runner-a (attempt 1)' });
    expect(w.gh.dispatches.map((d) => [d.inputs.pr, d.inputs.sha])).toEqual([['7', head], ['7', head]]);
  });

  it('closing a PR closes its running job and gives the slot to the queue', async () => {
    const w = new World({ config: 'max_in_flight: 1\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const second = await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.labelsOf(8)).toEqual(['experiment:queued']);
    await w.close(7);
    expect(w.entries('result_recorded')[0].data).toMatchObject({ pr: 7, validated: false, reason: 'PR #7 was closed' });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '8', sha: second });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5);
    expect(w.entries('result_recorded')).toHaveLength(1);
  });

  it('a push supersedes the running job of the old SHA; its late result changes nothing', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const old = w.gh.dispatches[0];
    const head2 = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' }, 'synchronize');
    expect(w.entries('result_recorded')[0].data).toMatchObject({ job_id: old.inputs.nonce, validated: false, reason: `superseded by a push of ${head2}` });
    expect(w.gh.dispatches[1].inputs.sha).toBe(head2);
    await w.complete(old, 'runner-a', 1.5);
    expect(w.entries('result_recorded')).toHaveLength(1);
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.checksOf(head2)[0]).toMatchObject({ status: 'in_progress' });
  });
});

describe('installation', () => {
  it('on first install, baseline runs of the default branch are dispatched on each online class', async () => {
    const w = new World({ seed: [] });
    w.gh.runners.push({ id: 3, name: 'runner-c', status: 'online', busy: true, labels: ['self-hosted', 'autoresearch', 'cpu-test', 'owner-cat'] });
    w.gh.runners.push({ id: 4, name: 'runner-d', status: 'offline', busy: false, labels: ['self-hosted', 'autoresearch', 'gpu-gone', 'owner-dan'] });
    await w.install();
    const byClass = new Map<string, number>();
    for (const d of w.gh.dispatches) {
      expect(d.inputs).toMatchObject({ role: 'baseline', sha: w.main, pr: '' });
      byClass.set(d.inputs.runner_label, (byClass.get(d.inputs.runner_label) ?? 0) + 1);
    }
    expect([...byClass]).toEqual([
      ['cpu-test', 10],
      [CLASS, 10],
    ]); // baseline_runs (default 10) per online class
    expect(w.entries('job_dispatched')).toHaveLength(20);
  });

  it('a repository added to an existing installation gets its baselines too, once', async () => {
    const w = new World({ seed: [] });
    await w.addToInstallation();
    expect(w.gh.dispatches.map((d) => [d.inputs.role, d.inputs.runner_label, d.inputs.sha])).toEqual(Array(10).fill(['baseline', CLASS, w.main])); // baseline_runs (default 10)
    await w.addToInstallation(); // redelivered: the ten runs are in flight, none more
    expect(w.gh.dispatches).toHaveLength(10);
    expect(w.entries('job_dispatched')).toHaveLength(10);
  });
});
