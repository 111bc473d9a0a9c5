// Red team, second pass over the built site: attacks that the markup escaping of html.ts does not
// stop, by a PR author (its title, its train.ts), a runner's owner (result.json: device, backend,
// failure message, runner name, times) or a main branch that once merged such a file.
//
// - Trojan Source (CVE-2021-42574): Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069,
//   the marks U+200E, U+200F, U+061C) reorder what a reader sees. In the archived diff they make
//   the code shown differ from the code that ran; in a title, runner name or class they flip the
//   text after them on the same line. No page may carry one raw: each is shown as <U+XXXX>, as
//   GitHub shows them. The JSON API keeps the data as recorded.
// - A runner's claimed total_seconds (result.json) is not the GPU time it gave: the ledger credits
//   at most GitHub's job time, and a claim of 1e308 twice summed to Infinity, which JSON writes as
//   null in contributors.json (a number field that changed type under agents' feet).
// - Word marking in the diff is quadratic in the length of a replaced line: two long lines (a
//   main that merged a long line, or an older diff_path file) made one page take seconds to minutes.
// - A result.json string is bounded only by the 8 MB artifact: a device name or failure message
//   of megabytes, copied into the experiment page, its API page and the table, grows the site
//   toward GitHub Pages' 1 GB.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTwoFilesPatch } from 'diff';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { appendEntries, writeLedgerDir } from '../../ledger/index.js';
import { ApiContributors, ApiExperimentsPage } from '../../leaderboard/src/api-schema.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { serveDir } from '../../leaderboard/src/static-server.js';
import { chromium, type Browser } from 'playwright-core';
import { renderDiff } from '../../leaderboard/src/diff.js';
import { sampleDiff, sampleLedger, sampleResult } from '../../leaderboard/src/sample-ledger.js';
import { files } from './fixture.js';

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const RLO = '\u202e';
const LRI = '\u2066';
const PDI = '\u2069';
const HUGE = 'H'.repeat(2_000_000);


describe('red team: what escaping alone does not stop', () => {
  let site: string;
  let text: Map<string, string>;

  beforeAll(async () => {
    const sample = sampleLedger({ experiments: 4, curvePoints: 8 });
    const last = sample.entries[sample.entries.length - 1];
    const at = (m: number) => new Date(Date.parse(last.time) + m * 60_000);
    const cls = `gpu-${RLO}evil`;
    const job = (pr: number) => ({ role: 'candidate' as const, nonce: `nonce-rt-${pr}`, repo: 'swarm-org/autoresearch-swarm', pr, sha: 'e'.repeat(40), run_id: pr, runner_name: `runner-${RLO}1`, isolation: 'docker' as const });
    const res = (pr: number, over: Record<string, unknown> = {}) => ({ ...sampleResult({ cls, valBpb: 2.5, seed: pr, curvePoints: 5, finishedAt: at(2), job: job(pr) }), device: `NVIDIA ${RLO}evil`, backend: `tensorflow${LRI}`, ...over });
    // Trojan Source: the comment hides `if (isAdmin)` being outside it
    const trojan = `const ok = 1; /* ${RLO} } ${LRI}if (isAdmin)${PDI} ${LRI} begin admins only */`;
    const row = (job_id: string, pr: number, over: Record<string, unknown> = {}) => ({
      job_id, role: 'candidate' as const, pr, sha: 'e'.repeat(40), title: `faster ${RLO}RL retsaf`, author: 'agent-x', runner_name: `runner-${RLO}1`, runner_owner: 'eve', run_url: null, validated: true,
      reason: null, result: res(pr), diff_path: null, diff_sha256: null, diff: sampleDiff(0, '3e-3', '9e-3', trojan), log_excerpt: `step 1 ${RLO}loss 2.0`, job_seconds: 400, ...over,
    });
    const news = appendEntries(sample.entries, [
      { type: 'runner_registered', time: at(1).toISOString(), data: { runner_name: `runner-${RLO}1`, owner: 'eve', hardware_class: cls, labels: [`self-hosted${RLO}`] } },
      // a runner claims 1e308 seconds of work, twice: GitHub says the jobs took 400 s each
      { type: 'result_recorded', time: at(2).toISOString(), data: row('j1', 901, { result: res(901, { total_seconds: 1e308 }) }) },
      { type: 'result_recorded', time: at(3).toISOString(), data: row('j2', 902, { result: res(902, { total_seconds: 1e308 }) }) },
      // megabytes in result.json strings
      { type: 'result_recorded', time: at(4).toISOString(), data: row('j3', 903, { result: res(903, { status: 'failed', val_bpb: null, failure: { kind: 'crash', message: HUGE }, device: HUGE, backend: HUGE, dataset: HUGE, harness_version: HUGE }) }) },
    ]);
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-redteam-')), 'ledger');
    writeLedgerDir(dir, [...sample.entries, ...news], sample.files);
    site = join(dir, '..', 'site');
    await buildSite(dir, site, { now: new Date(at(60)) });
    text = new Map(files(site).map((f) => [relative(site, f), readFileSync(f, 'utf8')]));
  }, 60_000);

  it('puts no raw bidirectional control on any page, and shows each as <U+XXXX>', () => {
    const pages = [...text].filter(([f]) => f.endsWith('.html'));
    for (const [page, html] of pages) expect({ page, hit: BIDI.exec(html)?.[0].codePointAt(0)?.toString(16) ?? null }).toEqual({ page, hit: null });
    const all = pages.map(([, h]) => h).join('\n');
    expect(all).toContain('faster &lt;U+202E&gt;RL retsaf'); // title
    expect(all).toContain('&lt;U+202E&gt; } &lt;U+2066&gt;if (isAdmin)&lt;U+2069&gt;'); // the diff
    expect(all).toContain('NVIDIA &lt;U+202E&gt;evil'); // device
    expect(all).toContain('gpu-&lt;U+202E&gt;evil'); // class
    expect(all).toContain('runner-&lt;U+202E&gt;1'); // runner name
  });

  it('keeps the data as recorded in the JSON API', () => {
    const page = ApiExperimentsPage.parse(JSON.parse(text.get('api/v1/experiments/page-1.json')!));
    const e = page.experiments.find((x) => x.pr === 901)!;
    expect(e.title).toBe(`faster ${RLO}RL retsaf`);
    expect(e.diff).toContain(`${RLO} } ${LRI}if (isAdmin)${PDI}`);
  });

  it('has site.js show bidirectional controls of the JSON it renders (table rows, chart tips) as <U+XXXX>', () => {
    const js = text.get('assets/site.js')!;
    // every text the script puts on the page goes through el(), which makes them visible
    expect(js).toMatch(/\\u202a-\\u202e/);
    expect(js).not.toMatch(/tip\.textContent = (?!visible\()/);
  });

  it('counts a runner\'s GPU time as GitHub measured its job, not as its result.json claims, and keeps contributors.json valid', () => {
    const c = ApiContributors.parse(JSON.parse(text.get('api/v1/contributors.json')!));
    const eve = c.contributors.find((p) => p.login === 'eve')!;
    expect(eve.gpu_seconds).toBeLessThanOrEqual(3 * 400);
    const runner = c.runners.find((r) => r.owner === 'eve')!;
    expect(runner.gpu_seconds).toBeLessThanOrEqual(3 * 400);
    expect(text.get('contributors.html')).not.toMatch(/Infinity|e\+308/);
  });

  it('does not copy megabytes of a result.json string into the pages', () => {
    for (const [f, body] of text) if (!f.startsWith('api/')) expect({ f, big: body.length > 200_000 }).toEqual({ f, big: false });
    const page = [...text].find(([f, h]) => f.endsWith('.html') && h.includes('#903'))!;
    expect(page[1]).toMatch(/characters more in the ledger/);
  });
});

describe('red team: word marking of long replaced lines', () => {
  it('renders a diff that replaces one 35 KB line with another in well under a second', () => {
    const long = (p: string) => Array.from({ length: 6000 }, (_, i) => `${p}${i}`).join(' ');
    const patch = createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', `const A = 1;\n// ${long('a')}\nconst B = 2;\n`, `const A = 1;\n// ${long('b')}\nconst B = 2;\n`);
    const t0 = performance.now();
    const out = renderDiff(patch).value;
    const ms = performance.now() - t0;
    expect(out).toContain('b5999');
    expect(out).toContain('<del>');
    expect(ms).toBeLessThan(1000);
  }, 120_000);

  it('still marks the changed words of ordinary lines', () => {
    const out = renderDiff(sampleDiff(0, '3e-3', '9e-3')).value;
    expect(out).toMatch(/<del>const LR = <mark>3e<\/mark>-3;/);
  });
});

/** Minutes after a sample ledger's last entry, and a candidate's dispatch on the H100 class at PR `pr`'s minute. */
function extending(sample: ReturnType<typeof sampleLedger>) {
  const last = sample.entries[sample.entries.length - 1];
  const at = (m: number) => new Date(Date.parse(last.time) + m * 60_000).toISOString();
  const repo = 'swarm-org/autoresearch-swarm';
  const dispatch = (job_id: string, pr: number) => ({ type: 'job_dispatched' as const, time: at(pr), data: { job_id, role: 'candidate' as const, repo, pr, sha: 'a'.repeat(40), author: 'agent-x', hardware_class: 'gpu-h100-80gb', eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null } });
  return { at, dispatch, repo };
}

// A runner's result.json names its repository (job.repo). The App refuses a result whose repo is
// not its own, and records it, refused, with the result as the runner wrote it. The site read an
// experiment's repository from that block first: a forged result sent its "files changed on
// GitHub" link to another repository, and, as the ledger's first experiment, it named the
// repository the ledger page tells every viewer to clone, `npm ci` and verify with.
describe('red team: a refused result that names another repository', () => {
  let text: Map<string, string>;
  beforeAll(async () => {
    const sample = sampleLedger({ experiments: 0, curvePoints: 8 });
    const { at, dispatch, repo } = extending(sample);
    const result = (job_id: string, pr: number, jobRepo: string, validated: boolean) => ({
      type: 'result_recorded' as const,
      time: at(pr + 1),
      data: {
        job_id, role: 'candidate' as const, pr, sha: 'a'.repeat(40), title: `pr ${pr}`, author: 'agent-x', runner_name: 'gpu-h100-80gb-0', runner_owner: 'eve', run_url: `https://github.com/${repo}/actions/runs/${pr}`,
        validated, reason: validated ? null : `repo \`${jobRepo}\` differs from ${repo}`,
        result: sampleResult({ cls: 'gpu-h100-80gb', valBpb: 2.4, seed: pr, curvePoints: 5, finishedAt: new Date(at(pr + 1)), job: { role: 'candidate', nonce: job_id, repo: jobRepo, pr, sha: 'a'.repeat(40), run_id: pr, runner_name: 'gpu-h100-80gb-0', isolation: 'docker' } }),
        diff_path: null, diff_sha256: null, log_excerpt: null,
      },
    });
    const news = appendEntries(sample.entries, [dispatch('job-forged', 10), result('job-forged', 10, 'evil-org/autoresearch-swarm', false), dispatch('job-honest', 20), result('job-honest', 20, repo, true)]);
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-redteam-repo-')), 'ledger');
    writeLedgerDir(dir, [...sample.entries, ...news], sample.files);
    const site = join(dir, '..', 'site');
    await buildSite(dir, site, { now: new Date(at(60)) });
    text = new Map(files(site).map((f) => [relative(site, f), readFileSync(f, 'utf8')]));
  }, 60_000);

  it('links no page or API file to the repository a refused result claimed', () => {
    for (const [f, body] of text) expect({ f, link: /https:\/\/github\.com\/evil-org[^"\s]*/.exec(body)?.[0] ?? null }).toEqual({ f, link: null });
  });

  it('tells viewers to clone the repository the App dispatched from', () => {
    expect(text.get('ledger.html')).toContain('git clone https://github.com/swarm-org/autoresearch-swarm.git');
  });
});

describe('red team: links from ledger URLs', () => {
  it('turns only absolute http(s) URLs into links (held before this pass: recorded here)', async () => {
    const { safeUrl } = await import('../../leaderboard/src/html.js');
    for (const bad of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', '//evil.example/x', '/\\evil.example', 'file:///etc/passwd', '']) expect({ bad, url: safeUrl(bad) }).toEqual({ bad, url: null });
    expect(safeUrl('https://github.com/o/r/actions/runs/1')).toBe('https://github.com/o/r/actions/runs/1');
  });
});

// What site.js draws from the JSON files, in Chromium (as browser.test.ts launches it): a
// runner's claim of val_bpb 1e308 flattened its class's progress chart (every other point on one
// line), and a title's bidirectional override reordered the filtered table's row.
describe('red team: what site.js draws from the JSON', () => {
  const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveDir>>;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    const sample = sampleLedger({ experiments: 12, curvePoints: 8 });
    const last = sample.entries[sample.entries.length - 1];
    const at = (m: number) => new Date(Date.parse(last.time) + m * 60_000);
    const job = (pr: number) => ({ role: 'candidate' as const, nonce: `nonce-js-${pr}`, repo: 'swarm-org/autoresearch-swarm', pr, sha: 'e'.repeat(40), run_id: pr, runner_name: 'gpu-h100-80gb-0', isolation: 'docker' as const });
    const row = (job_id: string, pr: number, val: number, title: string) => ({
      job_id, role: 'candidate' as const, pr, sha: 'e'.repeat(40), title, author: 'agent-x', runner_name: 'gpu-h100-80gb-0', runner_owner: 'eve', run_url: null, validated: true, reason: null,
      result: { ...sampleResult({ cls: 'gpu-h100-80gb', valBpb: 2.5, seed: pr, curvePoints: 5, finishedAt: at(2), job: job(pr) }), val_bpb: val }, diff_path: null, diff_sha256: null, log_excerpt: null, job_seconds: 400,
    });
    const news = appendEntries(sample.entries, [
      { type: 'result_recorded', time: at(2).toISOString(), data: row('job-bidi', 901, 2.44, `tune LR ${RLO}0000.1 bpb_lav degrem`) },
      { type: 'result_recorded', time: at(3).toISOString(), data: row('job-huge', 902, 1e308, 'huge score') },
    ]);
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-redteam-js-')), 'ledger');
    writeLedgerDir(dir, [...sample.entries, ...news], sample.files);
    const out = join(dir, '..', 'site');
    await buildSite(dir, out, {});
    server = await serveDir(out);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('keeps the progress chart on the scale of the running best when a runner claims 1e308', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + 'index.html');
    await page.waitForFunction(() => document.querySelector('figure.progress[data-class="gpu-h100-80gb"]')?.getAttribute('data-rendered-points') !== null);
    const y = await page.evaluate(() => {
      const c = (window as unknown as { leaderboardCharts: { hardware_class?: string; plot: { scales: { y: { min: number; max: number } } } }[] }).leaderboardCharts.find((x) => x.hardware_class === 'gpu-h100-80gb')!;
      return { min: c.plot.scales.y.min, max: c.plot.scales.y.max };
    });
    expect(y.max).toBeLessThan(8);
    expect(y.max - y.min).toBeLessThan(3);
    await page.close();
  }, 60_000);

  it('shows a title\'s bidirectional override as <U+202E> in the rows it renders from all.json', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + 'experiments/index.html');
    await page.fill('input[name=q]', 'tune');
    await page.waitForFunction(() => /match/.test((document.querySelector('output[name=shown]') as HTMLOutputElement).value));
    const title = await page.locator('table.experiments td.title').first().textContent();
    expect(title).toBe('tune LR <U+202E>0000.1 bpb_lav degrem');
    await page.close();
  }, 60_000);
});

// The App refuses a result whose hardware class is not its runner's registered class (runner
// names and classes are checked where runners join: runner/protocol.ts), and records it refused,
// with the class the runner wrote. The site took an experiment's class from that claim: any
// string, up to the 8 MB artifact, became a class of its own: a progress chart and file, a row of
// the best table, an <option> of the class filter on every one of the experiments pages (400 of
// them at 100,000 experiments: 8 MB each), a key of index.json's progress links (`__proto__`).
describe('red team: the hardware class a refused result claims', () => {
  let text: Map<string, string>;
  const claimed = `gpu-${'A'.repeat(1_000_000)}`;
  beforeAll(async () => {
    const sample = sampleLedger({ experiments: 6, curvePoints: 8 });
    const { at, dispatch, repo } = extending(sample);
    const refused = (job_id: string, pr: number, cls: string) => ({
      type: 'result_recorded' as const,
      time: at(pr + 1),
      data: {
        job_id, role: 'candidate' as const, pr, sha: 'a'.repeat(40), title: `pr ${pr}`, author: 'agent-x', runner_name: 'gpu-h100-80gb-0', runner_owner: 'eve', run_url: `https://github.com/${repo}/actions/runs/${pr}`,
        validated: false, reason: 'hardware class `gpu-AAAA…` is not the class gpu-h100-80gb its runner was registered with',
        result: sampleResult({ cls, valBpb: 2.4, seed: pr, curvePoints: 5, finishedAt: new Date(at(pr + 1)), job: { role: 'candidate', nonce: job_id, repo, pr, sha: 'a'.repeat(40), run_id: pr, runner_name: 'gpu-h100-80gb-0', isolation: 'docker' } }),
        diff_path: null, diff_sha256: null, log_excerpt: null,
      },
    });
    const news = appendEntries(sample.entries, [dispatch('job-cls-1', 10), refused('job-cls-1', 10, claimed), dispatch('job-cls-2', 20), refused('job-cls-2', 20, '__proto__')]);
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-redteam-cls-')), 'ledger');
    writeLedgerDir(dir, [...sample.entries, ...news], sample.files);
    const site = join(dir, '..', 'site');
    await buildSite(dir, site, { now: new Date(at(60)), perPage: 2 });
    text = new Map(files(site).map((f) => [relative(site, f), readFileSync(f, 'utf8')]));
  }, 120_000);

  it('makes no class of it: the refused run is shown under the class it was dispatched to', () => {
    const index = JSON.parse(text.get('api/v1/index.json')!);
    expect(Object.keys(index.links.progress).map((k) => k.slice(0, 20)).sort()).toEqual(['gpu-h100-80gb', 'gpu-rtx-4090']);
    const rows = [1, 2, 3, 4].flatMap((n) => (text.has(`api/v1/experiments/page-${n}.json`) ? JSON.parse(text.get(`api/v1/experiments/page-${n}.json`)!).experiments : []));
    expect(rows.filter((e: { pr: number }) => e.pr === 10 || e.pr === 20).map((e: { hardware_class: string; status: string }) => [e.hardware_class.slice(0, 20), e.status])).toEqual([['gpu-h100-80gb', 'rejected'], ['gpu-h100-80gb', 'rejected']]);
  });

  it('copies the claimed class into no file', () => {
    let total = 0;
    for (const [f, body] of text) {
      total += body.length;
      expect({ f, copied: body.includes('A'.repeat(1000)) }).toEqual({ f, copied: false });
    }
    expect(total).toBeLessThan(2_000_000);
  });
});

// An older result names its diff as a file beside the ledger (diff_path, its sha256 optional). The
// ledger branch is the App's to write, but a checkout of it can hold a symbolic link, and the
// build followed it: a link diffs/x.diff -> any file of the machine that builds the site put that
// file on a public page.
describe('red team: an archived diff that is a symbolic link', () => {
  it('does not follow it out of the ledger checkout', async () => {
    const sample = sampleLedger({ experiments: 2, curvePoints: 8 });
    const last = sample.entries[sample.entries.length - 1];
    const at = new Date(Date.parse(last.time) + 60_000);
    const job = { role: 'candidate' as const, nonce: 'nonce-link-1', repo: 'swarm-org/autoresearch-swarm', pr: 50, sha: 'c'.repeat(40), run_id: 1, runner_name: 'gpu-h100-80gb-0', isolation: 'docker' as const };
    const news = appendEntries(sample.entries, [{
      type: 'result_recorded', time: at.toISOString(),
      data: { job_id: 'job-link', role: 'candidate', pr: 50, sha: 'c'.repeat(40), title: 'link', author: 'agent-x', runner_name: 'gpu-h100-80gb-0', runner_owner: 'eve', run_url: null, validated: true, reason: null,
        result: sampleResult({ cls: 'gpu-h100-80gb', valBpb: 2.5, seed: 50, curvePoints: 5, finishedAt: at, job }), diff_path: 'diffs/leak.diff', diff_sha256: null, log_excerpt: null },
    }]);
    const root = mkdtempSync(join(tmpdir(), 'lb-redteam-link-'));
    const dir = join(root, 'ledger');
    writeLedgerDir(dir, [...sample.entries, ...news], sample.files);
    writeFileSync(join(root, 'secret.txt'), '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+SECRET_OF_THE_BUILD_MACHINE\n');
    mkdirSync(join(dir, 'diffs'), { recursive: true });
    symlinkSync(join(root, 'secret.txt'), join(dir, 'diffs', 'leak.diff'));
    await buildSite(dir, join(root, 'site'), {});
    const page = readFileSync(join(root, 'site', `experiments/${news[0].seq}.html`), 'utf8');
    expect(page).not.toContain('SECRET_OF_THE_BUILD_MACHINE');
    expect(page).toContain('not followed');
  }, 60_000);
});

// Numbers JSON cannot hold: a loss or a delta near 1e308 (a runner's claim) became Infinity on the
// way into a file, which JSON.stringify writes as null: a curve file or all.json row whose number
// field turned into null under its reader (the chart drew it as 0).
describe('red team: numbers that overflow on their way into JSON', () => {
  it('keeps every number of a loss curve file a number', async () => {
    const { compactCurve } = await import('../../leaderboard/src/curve.js');
    const c = JSON.parse(JSON.stringify(compactCurve([{ step: 0, t: 0, loss: 1e308 }, { step: 10, t: 1, loss: 2 }, { step: 20, t: 2, loss: -1e308 }, { step: 30, t: 3, loss: 1.5 }])));
    expect(c.m_bpb.every((m: unknown) => typeof m === 'number')).toBe(true);
    expect(c).toEqual({ d_step: [10, 20], m_bpb: [2885, 2164] });
  });

  it('keeps the delta of an all.json row a number', async () => {
    const { allExperiments } = await import('../../leaderboard/src/pages/experiments-table.js');
    const row = { id: 1, url: 'experiments/1.html', job_id: 'j', pr: 1, pr_url: null, sha: 'a'.repeat(40), title: null, author: null, runner_owner: null, hardware_class: 'gpu-x', status: 'pending' as const, reason: null, val_bpb: 1e308, baseline_mean: 2.5, delta: 1e308 - 2.5, verification: null, failure_kind: null, time: '2026-01-01T00:00:00.000Z', run_url: null, diff: null, steps: null, params: null, tokens_per_second: null, train_seconds: null };
    const all = JSON.parse(allExperiments([row], ['gpu-x']));
    expect(typeof all.rows[0][7]).toBe('number');
  });
});
