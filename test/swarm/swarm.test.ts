// A short run of `npm run swarm` (tiny budgets): the real App, runners running the real harness
// on this machine, an external agent (--agent-cmd) opening PRs, the ledger and the leaderboard.
// The swarm starts from a train.ts whose learning rate is 100x too low; the agent's first PR
// repairs it (a large, real improvement: merged after a runner of another owner re-ran it), its
// second breaks it again (discarded).
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedgerDir, verifyLedgerDir } from '../../ledger/index.js';
import { LocalSwarm } from '../../swarm/swarm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const script = fileURLToPath(new URL('./agent-script.mjs', import.meta.url));

const tiny = (src: string) =>
  src
    .replace(/^const N_LAYER = \d+;/m, 'const N_LAYER = 1;')
    .replace(/^const N_EMBD = \d+;/m, 'const N_EMBD = 32;')
    .replace(/^const BATCH = \d+;/m, 'const BATCH = 8;')
    .replace(/^const CONTEXT = \d+;/m, 'const CONTEXT = 32;');

describe('npm run swarm', () => {
  it('merges a verified improvement, discards a regression, and the ledger and leaderboard show both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-test-'));
    const lines: string[] = [];
    const train = readFileSync(join(ROOT, 'trainer/train.ts'), 'utf8');
    expect(tiny(train)).toMatch(/^const LR = [^;]+;/m);
    expect(tiny(train)).toMatch(/^const N_EMBD = 32;/m);
    const swarm = new LocalSwarm({
      stateDir: dir,
      budget: 4,
      evalBytes: 8192,
      agents: 0,
      runners: 2,
      agentCmd: `node ${script}`,
      // a model small enough to take hundreds of steps in 4 s on a shared CPU, so that two runs of it agree
      initialTrain: tiny(train).replace(/^const LR = [^;]+;/m, 'const LR = 3e-5;'),
      // no replication of discards (it would add a run; the merge's verification is the point here),
      // and no pace check to speak of: on a shared machine (a developer's, CI's neighbours) it
      // re-runs most runs; it has its own tests (test/app/hostile.test.ts)
      config: { verification: { quorum: 1, tolerance: 0.6 }, trust: { replicate_until: 0, spot_check_rate: 0, pace_tolerance: 0.95 } },
      maxExperiments: 2,
      // every wait has a deadline, so that CI never sits idle: the test fails saying what it waited for
      minutes: 5,
      stallSeconds: 60,
      jobTimeoutSeconds: 120,
      agentTimeoutSeconds: 60,
      appTimeoutSeconds: 60,
      port: 0,
      // as `npm run swarm` does: the bubblewrap sandbox where it works (CI installs it), else none with a note
      isolation: 'auto',
      tickSeconds: 5,
      print: (l) => {
        lines.push(l);
        if (process.env.SWARM_DEBUG) process.stderr.write(`${l}\n`);
      },
    });
    let passed = false;
    try {
      const s = await swarm.run();
      const log = lines.join('\n');
      expect({ merged: s.merged, discarded: s.discarded, log }).toMatchObject({ merged: 1, discarded: 1 });
      expect(log).toMatch(/leaderboard: http:\/\/127\.0\.0\.1:\d+\//);
      expect(s.best).not.toBeNull();
      expect(Object.keys(s.credits)).toEqual(expect.arrayContaining(['owner-1', 'owner-2']));

      // the ledger verifies, and the merge was verified by a runner of another owner
      const check = await verifyLedgerDir(join(dir, 'ledger'));
      // on failure, say which entry and why (a bare `false` told CI nothing)
      expect(check.ok ? { ok: true } : { ...check, entries: undefined }).toEqual({ ok: true });
      const entries = readLedgerDir(join(dir, 'ledger'));
      const results = new Map(entries.filter((e) => e.type === 'result_recorded').map((e) => [(e.data as any).job_id, e.data as any]));
      const merged = entries.find((e) => e.type === 'experiment_merged')!.data as any;
      const v = entries.find((e) => e.type === 'verification' && (e.data as any).agreed)!.data as any;
      expect(merged.job_ids).toEqual(expect.arrayContaining([v.job_id, v.verify_job_id]));
      expect(results.get(v.verify_job_id).runner_owner).not.toBe(results.get(v.job_id).runner_owner);
      expect(results.get(v.job_id).result.job.runner_name).toBe(results.get(v.job_id).runner_name);

      // the leaderboard, over HTTP as an agent reads it: both experiments with their diffs
      const index = await (await fetch(new URL('api/v1/index.json', s.url!))).json();
      const page = await (await fetch(new URL(`api/v1/experiments/page-${index.newest_page}.json`, s.url!))).json();
      const byStatus = (st: string) => page.experiments.filter((e: any) => e.status === st && e.pr !== null);
      // the API's links (pr_url, run_url) lead to this server's fake GitHub, never github.com
      expect(JSON.stringify([index, page])).not.toMatch(/github\.com/);
      expect(byStatus('merged')[0]?.pr_url).toBe(new URL(`github/pull/${byStatus('merged')[0]?.pr}/files`, s.url!).href);
      expect(byStatus('merged')).toHaveLength(1);
      expect(byStatus('merged')[0].diff).toMatch(/^\+const LR = 3e-3;/m);
      expect(byStatus('merged')[0].verification.agreed).toBe(true);
      expect(byStatus('discarded').length).toBeGreaterThanOrEqual(1);
      expect(byStatus('discarded')[0].diff).toMatch(/^\+const LR = 3e-7;/m);
      const html = await (await fetch(s.url!)).text();
      expect(html).toMatch(/<html/i);
      // each experiment's own page shows the diff that was run
      // and its links to the PR and the run log lead to the local fake GitHub's pages, never github.com
      for (const e of [byStatus('merged')[0], byStatus('discarded')[0]]) {
        const pageHtml = await (await fetch(new URL(e.url, s.url!))).text();
        const lr = e.diff.includes('3e-7') ? '3e-7' : '3e-3';
        expect(pageHtml).toContain(lr);
        expect(pageHtml).not.toMatch(/https:\/\/github\.com\/(Codertocat|owner-|external-agent)/);
        const prPage = await fetch(new URL(`github/pull/${e.pr}/files`, s.url!));
        expect(prPage.status).toBe(200);
        expect(await prPage.text()).toContain(`+const LR = ${lr};`);
        const runPath = /href="(\/github\/actions\/runs\/\d+)"/.exec(pageHtml)?.[1];
        expect(runPath).toBeDefined();
        expect(await (await fetch(new URL(runPath!, s.url!))).text()).toMatch(/val_bpb/);
      }
      // the state folder holds the fake GitHub and resumes: main carries the merged change
      expect(readFileSync(join(dir, 'main-train.ts'), 'utf8')).toMatch(/^const LR = 3e-3;/m);
      expect(JSON.parse(readFileSync(join(dir, 'github.json'), 'utf8')).merges).toHaveLength(1);
      passed = true;
    } finally {
      await swarm.close();
      // a failed run's state stays for inspection (the ledger, github.json, the harness logs under work/)
      if (passed && !process.env.SWARM_KEEP) rmSync(dir, { recursive: true, force: true });
      else process.stderr.write(`swarm test: its state is kept in ${dir}\n${lines.join('\n')}\n`);
    }
  }, 9 * 60_000);
});
