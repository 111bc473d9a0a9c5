// The faked GitHub answers as GitHub documents it: concurrency groups, dispatch inputs, check runs
// without a conclusion, secondary rate limits, primary limit headers. Each case names its source.
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { FakeGitHub, OWNER, REPO } from '../../sim/github/fake.js';
import { fakeFetch } from '../../sim/github/fetch.js';

const P = `https://api.github.com/repos/${OWNER}/${REPO}`;
const experimentYml = readFileSync(new URL('../../.github/workflows/experiment.yml', import.meta.url), 'utf8');

// experiment.yml before its concurrency group was made per job: one group per class's baselines
const classGroupYml = experimentYml.replace(/group: .*\n/, "group: experiment-${{ inputs.pr || 'main' }}-${{ inputs.role }}-${{ inputs.runner_label }}\n");

function repo(opts: { now?: () => number; rateLimits?: boolean; workflow?: string } = {}) {
  const gh = new FakeGitHub(opts);
  const main = gh.commit({ '.github/workflows/experiment.yml': opts.workflow ?? experimentYml, 'trainer/train.ts': 'x' }, null, 'initial');
  gh.refs.set('heads/main', main);
  return { gh, main };
}
const dispatch = (gh: FakeGitHub, inputs: Record<string, string>) =>
  gh.handle({ method: 'POST', url: `${P}/actions/workflows/experiment.yml/dispatches`, body: JSON.stringify({ ref: 'main', inputs }) });
const baseline = (nonce: string) => ({ sha: 'a'.repeat(40), role: 'baseline', nonce, eval_seed: '1', runner_label: 'gpu-x' });

describe('GitHub Actions as documented', () => {
  it('a concurrency group keeps one running and one pending run and cancels the rest (experiment.yml with a group per class, as it was)', () => {
    // docs "Control the concurrency of workflows and jobs": "at most one running and one pending job in a
    // concurrency group ... Any existing pending job or workflow in the same concurrency group ... will be canceled"
    const { gh } = repo({ workflow: classGroupYml });
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(dispatch(gh, baseline(n)).status).toBe(204);
    const runs = [...gh.workflowRuns.values()];
    expect(new Set(runs.map((r) => r.group))).toEqual(new Set(['experiment-main-baseline-gpu-x']));
    expect(runs.map((r) => [r.inputs.nonce, r.status, r.conclusion])).toEqual([
      ['n1', 'queued', null],
      ['n2', 'completed', 'cancelled'],
      ['n3', 'completed', 'cancelled'],
      ['n4', 'completed', 'cancelled'],
      ['n5', 'pending', null],
    ]);
    // each cancelled run reaches the App as workflow_run.completed (conclusion cancelled, no artifact)
    expect(gh.outbox.filter((d) => d.name === 'workflow_run' && d.payload.workflow_run.conclusion === 'cancelled')).toHaveLength(3);
    // when the running one ends, the pending one takes the group
    gh.startRun(runs[0].id, 'r1');
    gh.finishRun(runs[0], 'success');
    expect(runs[4].status).toBe('queued');
    // runs-on is evaluated from the inputs, as Actions does
    expect(runs[0].runsOn).toEqual(['self-hosted', 'autoresearch', 'gpu-x']);
    expect(runs[0].display_title).toBe(`baseline main @ ${'a'.repeat(40)} [n1]`);
  });

  it('experiment.yml as it is: one group per job (its nonce), so five baselines of a class all run', () => {
    const { gh } = repo();
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(dispatch(gh, baseline(n)).status).toBe(204);
    const runs = [...gh.workflowRuns.values()];
    expect(new Set(runs.map((r) => r.group)).size).toBe(5);
    expect(runs.map((r) => r.status)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
  });

  it('a job is queued with no runner, in_progress once a runner takes it, completed at the end: the workflow_job webhook and the jobs API say so', () => {
    // docs (webhook events, workflow_job): actions queued / in_progress ("The job has started processing
    // on the runner") / completed; "runner_name ... will be null as long as workflow_job[status] is queued"
    const { gh } = repo();
    expect(dispatch(gh, baseline('n1')).status).toBe(204);
    const [run] = [...gh.workflowRuns.values()];
    const jobs = () => gh.handle({ method: 'GET', url: `${P}/actions/runs/${run.id}/jobs` }).body as any;
    expect(jobs().jobs[0]).toMatchObject({ status: 'queued', runner_name: null, runner_id: null, conclusion: null, completed_at: null });
    gh.startRun(run.id, 'r1');
    expect(jobs().jobs[0]).toMatchObject({ status: 'in_progress', runner_name: 'r1' });
    gh.finishRun(run, 'success');
    expect(jobs().jobs[0]).toMatchObject({ status: 'completed', conclusion: 'success', runner_name: 'r1' });
    const events = gh.outbox.filter((d) => d.name === 'workflow_job').map((d) => [d.payload.action, d.payload.workflow_job.status, d.payload.workflow_job.runner_name, d.payload.workflow_job.run_id]);
    expect(events).toEqual([['queued', 'queued', null, run.id], ['in_progress', 'in_progress', 'r1', run.id], ['completed', 'completed', 'r1', run.id]]);
    // and the job's completion comes before the run's
    expect(gh.outbox.map((d) => d.name).slice(-2)).toEqual(['workflow_job', 'workflow_run']);
  });

  it('cancelling a run: 202 while it is queued (it completes as cancelled, workflow_run.completed is sent), 409 once it completed, 404 for no run', () => {
    // docs "Cancel a workflow run": responses 202 Accepted and 409 Conflict
    const { gh } = repo();
    dispatch(gh, baseline('n1'));
    const [run] = [...gh.workflowRuns.values()];
    const cancel = (id: number) => gh.handle({ method: 'POST', url: `${P}/actions/runs/${id}/cancel` });
    expect(cancel(run.id).status).toBe(202);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'cancelled', runner_name: null });
    expect(gh.outbox.filter((d) => d.name === 'workflow_run').map((d) => d.payload.workflow_run.conclusion)).toEqual(['cancelled']);
    expect(cancel(run.id).status).toBe(409);
    expect(cancel(123456).status).toBe(404);
    // the run as GET returns it
    expect(gh.handle({ method: 'GET', url: `${P}/actions/runs/${run.id}` }).body).toMatchObject({ id: run.id, status: 'completed', conclusion: 'cancelled', event: 'workflow_dispatch' });
  });

  it('a dispatch with inputs the workflow does not declare, without a required one, or off its choices is refused with 422', () => {
    const { gh } = repo();
    expect(dispatch(gh, { ...baseline('n1'), colour: 'red' })).toMatchObject({ status: 422, body: { message: 'Unexpected inputs provided: ["colour"]' } });
    expect(dispatch(gh, { sha: 'a'.repeat(40), role: 'baseline', eval_seed: '1' })).toMatchObject({ status: 422, body: { message: "Required input 'nonce' not provided" } });
    expect(dispatch(gh, { ...baseline('n1'), role: 'judge' }).status).toBe(422);
    expect(gh.workflowRuns.size).toBe(0);
  });

  it('a check run completed without a conclusion is refused with 422; a conclusion alone completes it', () => {
    const { gh, main } = repo();
    const post = (b: object) => gh.handle({ method: 'POST', url: `${P}/check-runs`, body: JSON.stringify({ name: 'val_bpb', head_sha: main, ...b }) });
    expect(post({ status: 'completed' }).status).toBe(422);
    const ok = post({ conclusion: 'neutral' });
    expect(ok).toMatchObject({ status: 201, body: { status: 'completed', conclusion: 'neutral' } });
  });
});

describe('the contents API and lost answers as documented', () => {
  const put = (gh: FakeGitHub, sha?: string) =>
    gh.handle({ method: 'PUT', url: `${P}/contents/entries/tail.jsonl`, body: JSON.stringify({ message: 'm', branch: 'main', content: Buffer.from('x\n').toString('base64'), ...(sha ? { sha } : {}) }) });

  it('a PUT with a stale sha is refused with 409 "is at <sha> but expected <sha>"; without one, once the file exists, 422', () => {
    // docs "Create or update file contents": the blob SHA of the file being replaced is required when updating
    const { gh } = repo();
    expect(put(gh).status).toBe(201);
    const stale = put(gh, 'f'.repeat(40));
    expect(stale.status).toBe(409);
    expect((stale.body as { message: string }).message).toMatch(/^is at [0-9a-f]{40} but expected f{40}$/);
    expect(put(gh).status).toBe(422);
  });

  it('a ref update that is not a fast forward is refused with 422 and a documentation_url, as the REST description requires of every 422', () => {
    // seed 1, 1,000 PRs, faults: "PATCH .../git/refs/heads%2Fledger -> 422: response.documentation_url is required"
    const { gh, main } = repo();
    const other = gh.commit({ 'x.md': 'x' }, null, 'unrelated');
    const r = gh.handle({ method: 'PATCH', url: `${P}/git/refs/heads%2Fmain`, body: JSON.stringify({ sha: other, force: false }) });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({ message: 'Update is not a fast forward', documentation_url: expect.stringMatching(/^https:\/\/docs\.github\.com\/rest\//) });
    expect(gh.refs.get('heads/main')).toBe(main);
  });

  it('get a tree lists one level, by branch name or tree sha: a folder is an item of type tree whose sha lists it', () => {
    // docs "Get a tree": tree_sha is "the SHA1 value or ref (branch or tag) name of the tree"; without
    // `recursive`, subtrees are items of type "tree" (how the ledger lists entries/ past 1,000 files)
    const { gh } = repo();
    const ledger = gh.commit({ 'entries/000000.jsonl': 'a\n', 'entries/tail.jsonl': 'b\n', 'diffs/x.diff': 'd' }, null, 'ledger');
    gh.refs.set('heads/ledger', ledger);
    const get = (key: string) => gh.handle({ method: 'GET', url: `${P}/git/trees/${key}` });
    const root = get('ledger');
    expect(root.status).toBe(200);
    const items = (root.body as { tree: { path: string; type: string; sha: string }[]; truncated: boolean }).tree;
    expect(items.map((t) => [t.path, t.type]).sort()).toEqual([['diffs', 'tree'], ['entries', 'tree']]);
    const entries = get(items.find((t) => t.path === 'entries')!.sha).body as { tree: { path: string; type: string }[]; truncated: boolean };
    expect(entries.tree.map((t) => [t.path, t.type]).sort()).toEqual([['000000.jsonl', 'blob'], ['tail.jsonl', 'blob']]);
    expect(entries.truncated).toBe(false);
    expect(get('no-such-branch').status).toBe(404);
  });

  it('a timeout that landed did what was asked: the caller saw no answer, GitHub holds the change', () => {
    const { gh, main } = repo();
    gh.faults.push({ method: 'PUT', path: /\/contents\//, status: 0, timeout: true, landed: true });
    const r = put(gh);
    expect(r).toMatchObject({ status: 0, timeout: true });
    expect(gh.refs.get('heads/main')).not.toBe(main);
    gh.faults.push({ method: 'PUT', path: /\/contents\//, status: 0, timeout: true });
    const head = gh.refs.get('heads/main');
    expect(put(gh, 'e'.repeat(40))).toMatchObject({ timeout: true });
    expect(gh.refs.get('heads/main')).toBe(head); // one that did not land changed nothing
  });
});

describe('rate limits as documented', () => {
  it('the 81st content-creating request in a minute is answered 403 with retry-after; a minute later it passes', () => {
    // docs "Rate limits for the REST API": "no more than 80 content-generating requests per minute"
    let t = Date.parse('2026-12-01T00:00:00Z');
    const { gh } = repo({ now: () => t, rateLimits: true });
    gh.pulls.set(1, { number: 1, title: 'x', user: 'a', head: 'h', files: [], labels: [], state: 'open', merged: false, created_at: '' });
    const comment = () => gh.handle({ method: 'POST', url: `${P}/issues/1/comments`, body: JSON.stringify({ body: 'hi' }) });
    for (let i = 0; i < 80; i++) {
      expect(comment().status).toBe(201);
      t += 100;
    }
    const limited = comment();
    expect(limited.status).toBe(403);
    expect(limited.headers['retry-after']).toBe('60');
    expect((limited.body as { message: string }).message).toMatch(/secondary rate limit/);
    t += 60_000;
    expect(comment().status).toBe(201);
  });

  it('every answer carries the x-ratelimit headers; past the hourly budget the answer is 403 with remaining 0', () => {
    const t = Date.parse('2026-12-01T00:00:00Z');
    const { gh } = repo({ now: () => t, rateLimits: true });
    gh.primaryLimit = 3;
    const get = () => gh.handle({ method: 'GET', url: `${P}/pulls` });
    expect(get().headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2' });
    get();
    get();
    expect(get()).toMatchObject({ status: 403, headers: { 'x-ratelimit-remaining': '0' } });
  });
});

describe('the in-process fetch', () => {
  it('follows the artifact redirect, fails a timeout as fetch fails, and checks what it serves', async () => {
    const { gh } = repo();
    gh.runs.set(7, { runner_name: 'r', artifact: { name: 'result-x', files: { 'result.json': '{}' } } });
    const net = fakeFetch(gh, { checkEvery: 1 });
    const res = await net.fetch(`${P}/actions/artifacts/70/zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    gh.faults.push({ method: 'GET', path: /pulls/, status: 0, timeout: true });
    await expect(net.fetch(`${P}/pulls`)).rejects.toThrow('fetch failed');
    await net.fetch(`${P}/pulls?per_page=5000`);
    expect(net.problems.join('\n')).toMatch(/per_page is 5000/);
  });
});
