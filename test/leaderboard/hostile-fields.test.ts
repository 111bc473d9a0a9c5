// Red team: every string a runner, its owner or a PR author can put in the ledger, beyond the
// title, login, diff and log the build test covers, stays text on every page: a hardware class
// (it also names files), a runner's name and labels, a failure message, a rejection reason, the
// result's backend and device, a verify run's owner, a ban's reason (an attribute), the PR of a
// closed job. No page gets markup, script, a `javascript:` link, inline SVG or style from them.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { appendEntries, writeLedgerDir } from '../../ledger/index.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { sampleLedger, sampleResult } from '../../leaderboard/src/sample-ledger.js';
import { files } from './fixture.js';

const X = (n: number) => `"'><img src=x onerror=window.__pwned=${n}><svg onload=window.__pwned=${n}><style>*{display:none}</style><a href="javascript:window.__pwned=${n}">`;


describe('hostile text in every other field the ledger carries', () => {
  let site: string;
  let pages: Map<string, string>;

  beforeAll(async () => {
    const sample = sampleLedger({ experiments: 6, curvePoints: 8 });
    const last = sample.entries[sample.entries.length - 1];
    const at = (m: number) => new Date(Date.parse(last.time) + m * 60_000);
    const cls = `gpu-${X(1)}`;
    const job = { role: 'candidate' as const, nonce: 'nonce-hostile-x', repo: 'swarm-org/autoresearch-swarm', pr: 777, sha: 'e'.repeat(40), run_id: 1, runner_name: X(2), isolation: 'docker' as const };
    const res = (val: number | null, failure?: { kind: 'crash'; message: string }) => ({ ...sampleResult({ cls, valBpb: val, failure, seed: 7, curvePoints: 5, finishedAt: at(2), job }), backend: X(3), device: X(4) });
    const row = (job_id: string, owner: string, validated: boolean, result: ReturnType<typeof res>, role: 'candidate' | 'verify' = 'candidate') => ({
      job_id, role, pr: 777, sha: 'e'.repeat(40), title: 'plain title', author: 'agent-x', runner_name: X(2), runner_owner: owner, run_url: null, validated,
      reason: validated ? null : X(5), result, diff_path: null, diff_sha256: null, log_excerpt: null,
    });
    const news = appendEntries(sample.entries, [
      { type: 'runner_registered', time: at(1).toISOString(), data: { runner_name: X(2), owner: 'eve', hardware_class: cls, labels: [X(6), 'self-hosted'] } },
      { type: 'job_dispatched', time: at(1).toISOString(), data: { job_id: 'jx', role: 'candidate', repo: 'swarm-org/autoresearch-swarm', pr: 777, sha: 'e'.repeat(40), author: 'agent-x', hardware_class: cls, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null, title: 'plain title', pr_author: 'agent-x' } },
      { type: 'result_recorded', time: at(2).toISOString(), data: row('jx', 'eve', true, res(2.5)) },
      { type: 'result_recorded', time: at(3).toISOString(), data: row('jv', 'mallet', true, res(2.5), 'verify') },
      { type: 'verification', time: at(3).toISOString(), data: { job_id: 'jx', verify_job_id: 'jv', agreed: true, claim_bpb: 2.5, verify_bpb: 2.5, tolerance: 0.02 } },
      { type: 'result_recorded', time: at(4).toISOString(), data: { ...row('jf', 'eve', true, res(null, { kind: 'crash', message: X(7) })), pr: 778 } },
      { type: 'result_recorded', time: at(5).toISOString(), data: { ...row('jr', 'eve', false, res(2.4)), pr: 779 } },
      { type: 'experiment_discarded', time: at(6).toISOString(), data: { pr: 777, sha: 'e'.repeat(40), reason: X(8), hardware_class: cls, val_bpb: 2.5 } },
      { type: 'job_dispatched', time: at(7).toISOString(), data: { job_id: 'jc', role: 'candidate', repo: 'swarm-org/autoresearch-swarm', pr: 780, sha: 'd'.repeat(40), author: 'agent-x', hardware_class: cls, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null, title: X(9), pr_author: 'agent-x' } },
      { type: 'experiment_dequeued', time: at(8).toISOString(), data: { pr: 780, sha: 'd'.repeat(40), reason: X(10) } },
      { type: 'owner_banned', time: at(9).toISOString(), data: { login: 'eve', reason: X(11) } },
    ]);
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-hostile-')), 'ledger');
    writeLedgerDir(dir, [...sample.entries, ...news], sample.files);
    site = join(dir, '..', 'site');
    await buildSite(dir, site, { now: new Date(Date.parse(last.time) + 3_600_000) });
    pages = new Map(files(site).filter((f) => f.endsWith('.html')).map((f) => [relative(site, f), readFileSync(f, 'utf8')]));
  });

  it('shows each hostile value somewhere, escaped', () => {
    const text = [...pages.values()].join('\n');
    for (const n of [1, 2, 5, 6, 7, 11]) expect(text).toContain(`&quot;&#39;&gt;&lt;img src=x onerror=window.__pwned=${n}&gt;`);
  });

  it('lets none of it become markup, script, an event handler, a javascript: link, SVG or style', () => {
    for (const [page, html] of pages) {
      // attribute values are escaped (no raw `"` in them): with their text left out, what remains is markup
      // (the site's one handler of its own: the filter form never submits)
      const markup = html.replace(' onsubmit="return false"', '').replace(/="[^"]*"/g, (m) => (/^="javascript:/i.test(m) ? m : '=""'));
      expect({ page, hit: /<img|<svg|<style|<[a-z][^>]*\son[a-z]+=|href="javascript:/i.exec(markup)?.[0] ?? null }).toEqual({ page, hit: null });
      // the only scripts: the site's own files and JSON data blocks
      for (const tag of html.match(/<script[^>]*>/g) ?? []) expect({ page, tag }).toEqual({ page, tag: expect.stringMatching(/^<script (src="(\.\/|(\.\.\/)*)assets\/[a-zA-Z.]+\.js"|type="application\/json" id="[a-z-]+")>$/) });
    }
  });

  it('names no file after the hostile class outside the site', () => {
    for (const f of files(site)) expect(relative(site, f)).toMatch(/^[A-Za-z0-9._/-]+$/);
  });
});
