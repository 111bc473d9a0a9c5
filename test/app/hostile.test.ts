// Hostile runners against the real App with GitHub faked: each attack of issue 11 as a scenario.
// Every test here failed against the App before its defence (see the commit messages).
import { describe, it, expect } from '@jest/globals';
import nock from 'nock';
import { auditEachWorld, World, CLASS, reg, online, trustWorld } from './world.js';
import { appendEntries, auditLedger, type NewEntry } from '../../ledger/index.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const OTHER = 'export const LR = 1e-3;\n';

auditEachWorld();

describe('a result is bound to the run it came from', () => {
  it('job hijack: an artifact named for another job rejects the uploader\'s own job, never the victim\'s', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.push(8, 'mallory', { 'trainer/train.ts': OTHER });
    const [victim, own] = w.gh.dispatches;
    // mallory's runner ran PR 8's job but uploads `result-<PR 7's nonce>`
    await w.complete(own, 'runner-b', 2.5, { artifactName: `result-${victim.inputs.nonce}` });
    const recs = w.entries('result_recorded');
    expect(recs.map((r) => r.data.job_id)).toEqual([own.inputs.nonce]);
    expect(recs[0].data).toMatchObject({ validated: false, runner_owner: 'bob', reason: expect.stringMatching(/result-.* instead of result-/) });
    expect(w.gh.dispatches[2].inputs).toMatchObject({ pr: '8', role: 'candidate' });
    // the victim's job is untouched: its honest result is scored and credited
    await w.complete(victim, 'runner-a', 1.99);
    const mine = w.entries('result_recorded').find((r) => r.data.job_id === victim.inputs.nonce)!;
    expect(mine.data).toMatchObject({ validated: true, runner_owner: 'alice' });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('credit_granted').map((g) => g.data.login)).toEqual(['alice']);
  });

  it('a run whose title names a nonce the App never dispatched is recorded with the reason and harms no job', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    const stray = '1-1-' + 'e'.repeat(24);
    await w.complete(d, 'runner-a', 1.5, { titleNonce: stray });
    const [rec] = w.entries('result_recorded');
    expect(rec.data).toMatchObject({ job_id: stray, validated: false, reason: expect.stringMatching(/no job was dispatched with nonce/) });
    expect(w.entries('result_recorded').some((r) => r.data.job_id === d.inputs.nonce)).toBe(false);
  });

  it('padded credits: a budget other than the dispatch\'s is rejected', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { jobSeconds: 1250, tamper: (r) => Object.assign(r, { budget_seconds: 1200, train_seconds: 1190 }) });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/budget_seconds 1200 differs from the dispatched budget 300/) });
    expect(w.entries('credit_granted')).toEqual([]);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });

  it('padded credits: a runner is credited at most the dispatched budget, even when the job ran longer', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { jobSeconds: 1250, tamper: (r) => (r.train_seconds = 1190) });
    expect(w.entries('credit_granted')[0].data).toMatchObject({ login: 'alice', train_seconds: 300, amount: 300 });
  });

  it('an eval seed other than the dispatch\'s is rejected', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { tamper: (r) => (r.eval_seed = 12345) });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/eval_seed 12345 differs/) });
    expect(w.gh.merges).toEqual([]);
  });

  it('class liar: a result whose class differs from its runner\'s registered class is rejected', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { tamper: (r) => (r.hardware_class = 'gpu-h100-80gb') });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/gpu-h100-80gb is not the class gpu-test its runner was registered with/) });
    expect(w.entries('job_dispatched').filter((j) => j.data.role === 'baseline')).toEqual([]);
  });
});

describe('bad input is recorded with a reason, never a crash, and the job runs again', () => {
  it('a run on a runner no registration records', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-zed', 1.5);
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, runner_name: 'runner-zed', runner_owner: null, reason: expect.stringMatching(/runner-zed.*not registered/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
    expect(w.entries('credit_granted')).toEqual([]);
  });

  it('an oversized artifact is refused without downloading it', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { artifactBytes: 2 ** 30 });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/is 1073741824 bytes, over the limit/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });

  it('a malformed result.json', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { files: { 'result.json': '{"val_bpb": 0.1, ' } });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/result\.json/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });
});

/** The runner that takes a dispatch: the one its owner label names. */
const runnerOf = (w: World, d: { inputs: Record<string, string> }) => w.gh.runners.find((r) => r.labels.includes(d.inputs.runner_label))!.name;

describe('two owners together cannot outvote a third on fresh-seed runs (trust.outvote_quorum, default 3)', () => {
  // A colluding pair drawn as both verifiers of an honest improvement reports the same worse score:
  // with two agreeing owners enough to outvote, the claim was refuted (the improvement lost) and its
  // honest runner faulted. Run under the old rule (outvote_quorum 2), where the attack succeeds, and
  // under the default, where more owners are asked and the pair is outvoted instead.
  async function framedClaim(outvote: string) {
    const w = new World({ config: `max_in_flight: 2\nclose_on_discard: false\ntrust:\n  replicate_until: 0\n  spot_check_rate: 0\n${outvote}` });
    for (const [id, name, owner] of [[3, 'runner-c', 'carol'], [4, 'runner-m', 'mallory'], [5, 'runner-n', 'mel']] as const) {
      w.gh.runners.push({ id, name, status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, `owner-${owner}`] });
    }
    const busy = (...names: string[]) => w.gh.runners.forEach((r) => (r.busy = names.includes(r.name)));
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    busy('runner-b', 'runner-c', 'runner-n');
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9); // the improvement, honestly measured
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'verify', runner_label: 'owner-mallory' });
    busy('runner-b', 'runner-c', 'runner-m');
    await w.complete(w.gh.dispatches[1], 'runner-m', 2.01); // no better than main
    expect(w.gh.dispatches[2].inputs).toMatchObject({ role: 'verify', runner_label: 'owner-mel' });
    busy();
    await w.complete(w.gh.dispatches[2], 'runner-n', 2.011);
    return w;
  }

  it('a pair of verifiers reporting the same worse score refuted an honest improvement under the old rule; now honest owners outvote the pair and it merges', async () => {
    const old = await framedClaim('  outvote_quorum: 2\n');
    expect(old.gh.merges).toEqual([]);
    expect(old.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(old.entries('owner_faulted').map((f) => f.data.login)).toEqual(['alice']);

    const w = await framedClaim('');
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    for (let i = 3; !w.gh.merges.length && i < w.gh.dispatches.length; i++) {
      const d = w.gh.dispatches[i];
      expect(['owner-alice', 'owner-mallory', 'owner-mel']).not.toContain(d.inputs.runner_label);
      await w.complete(d, runnerOf(w, d), 1.9 + (i - 3) * 0.002);
    }
    expect(w.gh.merges).toHaveLength(1);
    expect(w.entries('owner_faulted').map((f) => f.data.login).sort()).toEqual(['mallory', 'mel']);
    expect(w.entries('credit_granted').map((g) => g.data.login)).not.toContain('mallory');
    expect(w.entries('credit_granted').map((g) => g.data.login)).toContain('alice');
  });
});

describe('adaptive replication', () => {
  it('sabotage: a worse score from an untrusted owner is replayed by other owners; the saboteur is faulted and the honest improvement merges on fresh-seed runs', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const first = w.gh.dispatches[0];
    await w.complete(first, 'runner-m', 2.5); // the improvement scores 1.9 on an honest runner
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    // the trust check is a replay: the same seeds, budget and schedule, on another owner's runner
    const replica = w.gh.dispatches[1];
    const orig = w.entries('result_recorded')[0].data.result!;
    expect(replica.inputs).toMatchObject({ role: 'verify', pr: '7', seed: first.inputs.seed, eval_seed: first.inputs.eval_seed, budget: first.inputs.budget, replay: orig.replay!.schedule });
    expect(replica.inputs.runner_label).not.toBe('owner-mallory');
    await w.complete(replica, 'runner-a', 1.9);
    const tiebreak = w.gh.dispatches[2];
    expect(tiebreak.inputs).toMatchObject({ role: 'verify', seed: first.inputs.seed, replay: orig.replay!.schedule });
    expect(['owner-mallory', 'owner-alice']).not.toContain(tiebreak.inputs.runner_label);
    await w.complete(tiebreak, runnerOf(w, tiebreak), 1.905);
    // two owners against mallory are not yet a verdict (outvote_quorum 3): a third owner replays it
    expect(w.entries('owner_faulted')).toEqual([]);
    const fourth = w.gh.dispatches[3];
    expect(fourth.inputs).toMatchObject({ role: 'verify', seed: first.inputs.seed, replay: orig.replay!.schedule });
    expect(['owner-mallory', 'owner-alice', tiebreak.inputs.runner_label]).not.toContain(fourth.inputs.runner_label);
    await w.complete(fourth, runnerOf(w, fourth), 1.902);
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
    expect(w.entries('replay_judged')[0].data).toMatchObject({ verdict: 'outvoted', outvoted: [first.inputs.nonce], by: 'val_bpb' });
    // three replays are one sample (the same seed): the improvement is verified by a fresh-seed run before it merges
    expect(w.gh.merges).toEqual([]);
    const fresh = w.gh.dispatches[4];
    expect(fresh.inputs).toMatchObject({ role: 'verify', replay: '' });
    expect(fresh.inputs.seed).not.toBe(first.inputs.seed);
    expect(['owner-mallory', fourth.inputs.runner_label]).not.toContain(fresh.inputs.runner_label);
    await w.complete(fresh, runnerOf(w, fresh), 1.9);
    // the fresh-seed run's owner is on probation: the merge waits for a replay of that run by another owner
    expect(w.gh.merges).toEqual([]);
    const again = w.gh.dispatches[5];
    expect(again.inputs).toMatchObject({ role: 'verify', seed: fresh.inputs.seed, eval_seed: fresh.inputs.eval_seed });
    // neither the run's owner nor the claim's (the last replayer's, whose replay is the claim now)
    expect([fresh.inputs.runner_label, fourth.inputs.runner_label]).not.toContain(again.inputs.runner_label);
    await w.complete(again, runnerOf(w, again), 1.9);
    expect(w.gh.merges).toHaveLength(1);
    // (mallory may earn for an honest replay she ran since; never for the sabotaged run)
    expect(w.entries('credit_granted').map((g) => g.data.job_id)).not.toContain(first.inputs.nonce);
    expect(w.entries('experiment_merged')[0].data.job_ids).toEqual([fourth.inputs.nonce, fresh.inputs.nonce]);
  });

  it('repeated faults ban an owner: a ledger entry, and its later results are refused', async () => {
    // room for PR 8's run even if PR 7 has merged by then: a merge dispatches baseline_runs (default 10) baselines
    const w = trustWorld('max_in_flight: 20\nverification:\n  quorum: 1\ntrust:\n  ban_after_faults: 1\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-m', 2.5);
    await w.complete(w.gh.dispatches[1], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[2], 'runner-b', 1.9);
    await w.complete(w.gh.dispatches[3], 'runner-c', 1.9);
    expect(w.entries('owner_banned').map((b) => b.data.login)).toEqual(['mallory']);
    await w.push(8, 'other-agent', { 'trainer/train.ts': OTHER });
    const d = w.gh.dispatches.find((x) => x.inputs.pr === '8')!;
    await w.complete(d, 'runner-m', 1.99);
    const rec = w.entries('result_recorded').find((r) => r.data.job_id === d.inputs.nonce)!;
    expect(rec.data).toMatchObject({ validated: false, reason: expect.stringMatching(/mallory is banned by the ledger/) });
  });


  it('a ban forfeits the credits a lazy owner earned on scores others only agreed with (no bit-exact replay proved its training)', async () => {
    // the lazy runner's plan: report a plausible score without training. On a GPU class its replays
    // compare scores, and a guess near the truth agrees; credits earned so stay earned until a ban.
    const w = trustWorld('max_in_flight: 20\nverification:\n  quorum: 1\ntrust:\n  ban_after_faults: 1\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    const guess = w.gh.dispatches[0];
    await w.complete(guess, 'runner-m', 1.99);
    const replay = w.gh.dispatches[1];
    expect(replay.inputs).toMatchObject({ pr: '7', role: 'verify', seed: guess.inputs.seed });
    await w.complete(replay, w.gh.runners.find((r) => r.labels.includes(replay.inputs.runner_label))!.name, 1.995);
    expect(w.entries('replay_judged').map((j) => [j.data.verdict, j.data.by])).toEqual([['agreed', 'val_bpb']]);
    expect(w.entries('credit_granted').map((g) => [g.data.login, g.data.job_id])).toContainEqual(['mallory', guess.inputs.nonce]);
    // her next guess is off: PR 8 is better than she guessed; three owners outvote her, and she is banned
    await w.push(8, 'other-agent', { 'trainer/train.ts': GOOD });
    const off = w.gh.dispatches.find((x) => x.inputs.pr === '8')!;
    await w.complete(off, 'runner-m', 2.5);
    const taken = new Set<string>();
    for (let i = 0; i < 3 && !w.entries('owner_banned').length; i++) {
      const r = w.gh.dispatches.filter((x) => x.inputs.pr === '8' && x.inputs.role === 'verify').at(-1)!;
      const runner = w.gh.runners.find((x) => x.labels.includes(r.inputs.runner_label) && !taken.has(x.name))!.name;
      taken.add(runner);
      await w.complete(r, runner, 1.9 + i * 0.005);
    }
    expect(w.entries('owner_banned').map((b) => b.data.login)).toEqual(['mallory']);
    // the credit for PR 7's guess is reversed with the ban: mallory keeps nothing
    const back = w.entries('credit_reversed').filter((r) => r.data.job_id === guess.inputs.nonce);
    expect(back.map((r) => r.data.reason)).toEqual([expect.stringMatching(/^forfeit: mallory is banned .* no bit-exact replay proved this run$/)]);
    const net = (login: string) =>
      w.entries('credit_granted').filter((g) => g.data.login === login).reduce((a, g) => a + g.data.amount, 0) -
      w.entries('credit_reversed').filter((g) => g.data.login === login).reduce((a, g) => a + g.data.amount, 0);
    expect(net('mallory')).toBe(0);
    // the audit holds the App to it: the same ledger without the forfeit is refused at the ban
    const chain = w.ledger();
    const kept = appendEntries([], chain.filter((e) => !(e.type === 'credit_reversed' && /^forfeit/.test((e.data as { reason: string }).reason))).map(({ type, time, data }) => ({ type, time, data }) as NewEntry));
    const a = auditLedger(kept, { freeRunsPerDay: 3 });
    expect(a.ok ? 'ok' : a.problem).toMatch(new RegExp(`^owner_banned of mallory leaves the credit of job ${guess.inputs.nonce} .* granted, though no bit-exact replay proved that run`));
    // the honest replayer of PR 7 keeps what it earned
    expect(net(w.gh.runners.find((r) => r.labels.includes(replay.inputs.runner_label))!.labels.find((l) => l.startsWith('owner-'))!.slice(6))).toBeGreaterThan(0);
  });
  it('an untrusted owner\'s discard counts and earns only after another owner agrees; a trusted owner\'s is only spot-checked', async () => {
    const w = trustWorld('max_in_flight: 4\ntrust:\n  replicate_until: 1\n  spot_check_rate: 0\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    expect(w.entries('credit_granted')).toEqual([]);
    expect(w.entries('experiment_discarded')).toEqual([]);
    await w.complete(w.gh.dispatches[1], w.gh.dispatches[1].inputs.runner_label === 'owner-bob' ? 'runner-b' : 'runner-c', 1.995);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('credit_granted')).toHaveLength(2);
    // alice now has one agreeing result: trusted at replicate_until 1, her next discard is not re-run
    await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 2e-3;\n' });
    const d = w.gh.dispatches.find((x) => x.inputs.pr === '8')!;
    const before = w.gh.dispatches.length;
    await w.complete(d, 'runner-a', 1.99);
    expect(w.gh.dispatches).toHaveLength(before);
    expect(w.gh.labelsOf(8)).toEqual(['experiment:discarded']);
  });

  it('spot checks: with rate 1 a trusted owner\'s discard is re-run too', async () => {
    const w = trustWorld('max_in_flight: 4\ntrust:\n  replicate_until: 0\n  spot_check_rate: 1\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ role: 'verify', pr: '7' });
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)[0].summary).toMatch(/a spot check \(rate 1\) drew this result/);
  });
});

describe('Sybil resistance', () => {
  it('the PR\'s author never verifies their own PR: their runner\'s verify run does not count', async () => {
    const w = trustWorld();
    await w.push(7, 'bob', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.dispatches[1].inputs.runner_label).not.toBe('owner-bob');
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.9); // bob's runner took it anyway
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.dispatches[2].inputs).toMatchObject({ role: 'verify' });
  });

  it('an author colluding with a young Sybil account: the claim is never verified by it, nothing merges', async () => {
    const young = new Date(Date.parse('2026-11-24T12:00:00Z') - 5 * 86_400_000).toISOString();
    const w = trustWorld('max_in_flight: 4\n', [reg('runner-s', 'mallory-sock', { created: young })]);
    await w.push(7, 'mallory', { 'trainer/train.ts': OTHER }); // no better than main
    await w.complete(w.gh.dispatches[0], 'runner-m', 1.5, { tamper: (r) => (r.val_bpb = 1.5) });
    for (const d of w.gh.dispatches.slice(1)) await w.complete(d, 'runner-s', 1.5);
    expect(w.gh.merges).toEqual([]);
    const sock = w.entries('result_recorded').filter((r) => r.data.runner_owner === 'mallory-sock');
    expect(sock.length).toBeGreaterThan(0);
    expect(sock.every((r) => !r.data.validated && /5 days old/.test(r.data.reason ?? ''))).toBe(true);
  });

  it('two fresh accounts declaring a class of their own mint no credits and merge nothing', async () => {
    const young = new Date(Date.parse('2026-11-24T12:00:00Z') - 3 * 86_400_000).toISOString();
    const w = trustWorld('max_in_flight: 10\nbaseline_runs: 2\n', [reg('runner-s1', 'sock-one', { cls: 'gpu-fake', created: young }), reg('runner-s2', 'sock-two', { cls: 'gpu-fake', created: young })]);
    await w.push(7, 'sock-one', { 'trainer/train.ts': OTHER });
    const fake = (r: any) => Object.assign(r, { hardware_class: 'gpu-fake', tokens_per_second: 1e12 });
    for (let i = 0, done = 0; done < w.gh.dispatches.length && i < 30; i++, done++) {
      const d = w.gh.dispatches[done];
      await w.complete(d, done % 2 ? 'runner-s2' : 'runner-s1', d.inputs.role === 'baseline' ? 2.0 : 1.5, { tamper: fake });
    }
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('baseline_recorded').filter((b) => b.data.hardware_class === 'gpu-fake')).toEqual([]);
    expect(w.entries('credit_granted')).toEqual([]);
  });
});

describe('load is noise, not a worse candidate', () => {
  const cal = (before: number, after: number) => (r: any) => (r.calibration = { workload: 'matmul-256x256x256x20@tensorflow', before_gflops: before, after_gflops: after });

  it('a run whose machine slowed during training is run again on another owner\'s runner instead of scored', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.6, { tamper: cal(100, 55) });
    expect(w.gh.labelsOf(7)).not.toContain('experiment:discarded');
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/off pace: the calibration workload ran at 55 GFLOP\/s after training, 45% below the 100 before/) });
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate', runner_label: 'owner-bob' });
  });

  it('a run far below its class\'s usual pace is run again elsewhere; one at the usual pace is scored', async () => {
    const w = new World({ config: 'max_in_flight: 10\n' });
    for (const pr of [7, 8, 9]) {
      await w.push(pr, `agent-${pr}`, { 'trainer/train.ts': `export const LR = ${pr}e-4;\n` });
      await w.complete(w.gh.dispatches.at(-1)!, pr % 2 ? 'runner-a' : 'runner-b', 1.99, { tamper: cal(100 + pr, 99 + pr) });
    }
    await w.push(10, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches.at(-1)!, 'runner-b', 2.4, { tamper: cal(50, 50) });
    const last = w.entries('result_recorded').at(-1)!;
    expect(last.data).toMatchObject({ pr: 10, validated: false, reason: "off pace: the calibration workload ran at 50 GFLOP/s, 53% below gpu-test's usual 107 (median of 2 owners)" });
    expect(w.gh.dispatches.at(-1)!.inputs).toMatchObject({ pr: '10', runner_label: 'owner-alice' });
    await w.complete(w.gh.dispatches.at(-1)!, 'runner-a', 1.99, { tamper: cal(104, 103) });
    expect(w.gh.labelsOf(10)).toEqual(['experiment:discarded']);
  });
});

describe('a class has no baseline until two owners agree on it', () => {
  it('baseline runs of one owner make no baseline; another owner\'s agreeing run does, and a saboteur\'s outlier is left out', async () => {
    // (an App without a seal key: no replays, so the owners' agreement is what is tested; replays of baseline runs: replays-more.test.ts)
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nbaseline_runs: 2\nverification:\n  min_sigma_df: 0\n', seed: [], seal: false });
    for (const [name, owner] of [['runner-a', 'alice'], ['runner-b', 'bob'], ['runner-m', 'mallory']]) online(w, name, owner);
    w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory')]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': OTHER });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    const [b1, b2] = w.gh.dispatches.slice(1);
    await w.complete(b1, 'runner-a', 2.0);
    await w.complete(b2, 'runner-a', 2.01);
    expect(w.entries('baseline_recorded')).toEqual([]);
    const b3 = w.gh.dispatches[3];
    expect(b3.inputs).toMatchObject({ role: 'baseline', sha: w.main });
    await w.complete(b3, 'runner-m', 2.6); // a saboteur's baseline run: would raise the mean and let a no-op merge
    expect(w.entries('baseline_recorded')).toEqual([]);
    await w.complete(w.gh.dispatches[4], 'runner-b', 2.005);
    const [b] = w.entries('baseline_recorded');
    expect(b.data.job_ids).toEqual([b1.inputs.nonce, b2.inputs.nonce, w.gh.dispatches[4].inputs.nonce]);
    expect(b.data.mean).toBeCloseTo(2.005, 6);
    expect(w.entries('credit_granted').map((g) => g.data.login)).not.toContain('mallory');
  });
});

// Found by the 300-PR fault run (a forger's 1.098 grouped with an honest 2.338): the class's sigma
// was pooled over the replicas of claims still being judged, so two adversarial replicas far apart
// widened the agreement tolerance (3.5·√2·σ) until any two runs agreed. A class's sigma comes from
// its agreed baselines only.
describe('the class sigma cannot be inflated by replicas', () => {
  it('two far-apart replicas of a pending claim leave the class sigma and the agreement tolerance as they were', async () => {
    const carol = { runner_name: 'runner-c', owner: 'carol', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-carol'], owner_created_at: '2015-01-01T00:00:00Z' };
    const w = new World({ config: 'max_in_flight: 2\nverification:\n  quorum: 2\n  min_sigma_df: 0\n  suspicious_jump: 10\ntrust:\n  replicate_until: 0\n  spot_check_rate: 0\nrunners:\n  min_account_age_days: 0\n' });
    w.seedLedger([...w.entries('runner_registered'), ...w.entries('baseline_recorded'), { type: 'runner_registered', data: carol }].map((e) => ({ type: e.type, data: e.data })) as Parameters<World['seedLedger']>[0]);
    w.gh.runners.push({ id: 3, name: 'runner-c', status: 'online', busy: false, labels: carol.labels });
    const { viewOf } = await import('../../app/ledger-view.js');
    const { classSigmaOf } = await import('../../app/baselines.js');
    const before = classSigmaOf(viewOf(w.ledger()), CLASS)!;
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-b', 2.5);
    await w.complete(w.gh.dispatches[2], 'runner-c', 1.0);
    expect(w.entries('result_recorded').filter((e) => e.data.role === 'verify')).toHaveLength(2);
    const after = classSigmaOf(viewOf(w.ledger()), CLASS)!;
    expect(after.sigma).toBeCloseTo(before.sigma, 6);
  });
});
