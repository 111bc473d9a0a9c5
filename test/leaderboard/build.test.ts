// The generator on ledgers made by the ledger module: every API file matches its schema, every
// figure agrees with the ledger it came from, hostile text stays text, bad input builds nothing.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { computeBalances, shardFiles, type LedgerEntry } from '../../ledger/index.js';
import { ApiBest, ApiContributors, ApiExperimentsPage, ApiIndex, ApiProgress, type ApiExperiment } from '../../leaderboard/src/api-schema.js';
import { buildSite, SITE_MARKER } from '../../leaderboard/src/build.js';
import { PER_PAGE } from '../../leaderboard/src/paths.js';
import { FILE_DIFF_EVERY } from '../../leaderboard/src/sample-ledger.js';
import { candidatesByClass, HOSTILE, writeTestLedger } from './fixture.js';

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const json = (dir: string, rel: string): unknown => JSON.parse(read(dir, rel));
const data = <T extends LedgerEntry['type']>(entries: LedgerEntry[], type: T) => entries.filter((e) => e.type === type).map((e) => (e as LedgerEntry<T>).data);

describe('leaderboard build', () => {
  let entries: LedgerEntry[];
  let site: string;
  let all: ApiExperiment[];
  let ledgerDir: string;

  beforeAll(async () => {
    // more than one page of experiments
    const ledger = writeTestLedger(PER_PAGE + 40);
    entries = ledger.entries;
    ledgerDir = ledger.dir;
    site = join(ledger.dir, '..', 'site');
    await buildSite(ledger.dir, site, { now: new Date('2026-02-01T00:00:00Z') });
    const index = ApiIndex.parse(json(site, 'api/v1/index.json'));
    all = [];
    for (let n = 1; n <= index.experiments_pages; n++) all.push(...ApiExperimentsPage.parse(json(site, `api/v1/experiments/page-${n}.json`)).experiments);
  });

  it('publishes the ledger head and counts that match the ledger', () => {
    const index = ApiIndex.parse(json(site, 'api/v1/index.json'));
    const last = entries[entries.length - 1];
    expect(index.ledger).toEqual({ seq: last.seq, hash: last.hash, entries: entries.length });
    const candidates = data(entries, 'result_recorded').filter((d) => d.role === 'candidate');
    expect(index.counts.experiments).toBe(candidates.length);
    expect(index.counts.merged).toBe(data(entries, 'experiment_merged').length);
    expect(index.experiments_pages).toBe(2);
    const ledgerPage = read(site, 'ledger.html');
    expect(ledgerPage).toContain('git clone https://github.com/swarm-org/autoresearch-swarm.git');
    expect(ledgerPage).toContain(`npm run ledger -- verify ../ledger-checkout --head ${last.seq}:${last.hash}`);
    expect(read(site, 'index.html')).toContain(last.hash);
  });

  it('pages the experiments from the oldest, each once, each with its own HTML page; the table shows the newest first', () => {
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // page 1 holds the oldest experiments; pages and their rows are in ledger order
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const index = ApiIndex.parse(json(site, 'api/v1/index.json'));
    expect(index.newest_page).toBe(2);
    const page1 = ApiExperimentsPage.parse(json(site, 'api/v1/experiments/page-1.json'));
    expect(page1.experiments).toHaveLength(PER_PAGE);
    expect(page1).toMatchObject({ page: 1, per_page: PER_PAGE, order: 'oldest_first' });
    const htmlPages = readdirSync(join(site, 'experiments')).filter((f) => /^\d+\.html$/.test(f));
    expect(htmlPages).toHaveLength(all.length);
    for (const e of all.slice(0, 20)) expect(existsSync(join(site, e.url))).toBe(true);
    // the HTML table holds the same rows as the API page, newest first; the default view is the
    // newest experiments, a page's worth across the last two pages (not the newest page's few rows)
    const rowIds = (page: string) => [...read(site, page).matchAll(/<tr data-status="\w+"><td data-v="[^"]*"><a href="\.\.\/experiments\/(\d+)\.html"/g)].map((m) => Number(m[1]));
    expect(rowIds('experiments/page-2.html')).toEqual(all.slice(PER_PAGE).map((e) => e.id).reverse());
    expect(all.length - PER_PAGE).toBeLessThan(PER_PAGE / 2);
    expect(rowIds('experiments/index.html')).toEqual(all.slice(-PER_PAGE).map((e) => e.id).reverse());
    expect(rowIds('experiments/page-1.html')).toEqual(all.slice(0, PER_PAGE).map((e) => e.id).reverse());
    // an older page names no head and no total, so it stays the same file as experiments arrive
    expect(read(site, 'experiments/page-1.html')).not.toContain(index.ledger.hash);
    expect(read(site, 'experiments/index.html')).toContain(index.ledger.hash);
  });

  it('gives each experiment the status, baseline delta and verification the ledger recorded', () => {
    const merged = data(entries, 'experiment_merged');
    const verifications = data(entries, 'verification');
    for (const m of merged) {
      const e = all.find((x) => x.pr === m.pr && x.sha === m.sha)!;
      expect(e.status).toBe('merged');
      expect(e.val_bpb).toBe(m.val_bpb);
      expect(e.baseline_mean).toBe(m.baseline_mean);
      expect(e.delta).toBeCloseTo(m.val_bpb - m.baseline_mean, 10);
      const v = verifications.find((x) => x.job_id === e.job_id)!;
      expect(e.verification).toMatchObject({ agreed: v.agreed, verify_bpb: v.verify_bpb, verify_job_id: v.verify_job_id });
    }
    const failed = data(entries, 'result_recorded').filter((d) => d.role === 'candidate' && d.result?.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(all.find((e) => e.job_id === f.job_id)).toMatchObject({ status: 'failed', val_bpb: null, failure_kind: f.result!.failure!.kind });
    const rejected = data(entries, 'result_recorded').filter((d) => d.role === 'candidate' && !d.validated);
    for (const r of rejected) expect(all.find((e) => e.job_id === r.job_id)).toMatchObject({ status: 'rejected', reason: r.reason });
    // the diff that was tested travels with each experiment in the API, whether the entry carries
    // it inline or names a file beside the ledger (older entries), and its page renders it
    expect(all.filter((e) => e.diff === null)).toEqual([]);
    const recorded = data(entries, 'result_recorded').filter((d) => d.role === 'candidate');
    const inline = recorded.find((d) => d.diff && d.diff_path === null)!;
    const file = recorded.find((d) => !d.diff && d.diff_path !== null)!;
    for (const d of [inline, file]) {
      const e = all.find((x) => x.job_id === d.job_id)!;
      expect(e.diff).toBe(d.diff ?? read(ledgerDir, d.diff_path!));
      expect(read(site, e.url)).toMatch(/<ins>const \w+ = .*\n<\/ins>/);
    }
    expect(all[1].pr_url).toBe(`https://github.com/swarm-org/autoresearch-swarm/pull/${all[1].pr}/files`);
  });

  it('names the best merged result per class and charts every experiment of that class', () => {
    const best = ApiBest.parse(json(site, 'api/v1/best.json'));
    const merged = data(entries, 'experiment_merged');
    const counts = candidatesByClass(entries);
    expect(best.classes.map((c) => c.hardware_class).sort()).toEqual([...counts.keys()].sort());
    for (const c of best.classes) {
      const lowest = Math.min(...merged.filter((m) => m.hardware_class === c.hardware_class).map((m) => m.val_bpb));
      expect(c.best?.val_bpb).toBe(lowest);
      const progress = ApiProgress.parse(json(site, c.progress_url));
      expect(progress.kind.filter((k) => k !== 'baseline')).toHaveLength(counts.get(c.hardware_class)!);
      // the staircase only goes down, and ends at the best merged score
      const steps = progress.best.filter((b): b is number => b !== null);
      expect(steps).toEqual([...steps].sort((a, b) => b - a));
      expect(steps[steps.length - 1]).toBe(lowest);
    }
  });

  it('shows the balances the ledger module computes, and each contributor\'s work', () => {
    const people = ApiContributors.parse(json(site, 'api/v1/contributors.json'));
    const balances = computeBalances(entries);
    expect(balances.size).toBeGreaterThan(0);
    for (const [login, b] of balances) {
      expect(people.contributors.find((p) => p.login === login)).toMatchObject({ earned: b.earned, pending: b.pending, spent: b.spent, balance: b.balance });
    }
    const results = data(entries, 'result_recorded');
    for (const p of people.contributors) {
      expect(p.experiments).toBe(results.filter((r) => r.role === 'candidate' && r.author === p.login).length);
      const seconds = results.filter((r) => r.validated && r.runner_owner === p.login).reduce((s, r) => s + r.result!.total_seconds, 0);
      expect(p.gpu_seconds).toBeCloseTo(seconds, 6);
    }
    expect(people.runners.map((r) => r.runner_name).sort()).toEqual(data(entries, 'runner_registered').map((r) => r.runner_name).sort());
    expect(read(site, 'contributors.html')).toContain('<h3>gpu-h100-80gb</h3>');
  });

  it('lists every merged improvement on records.html and tells each class\'s story from its first baseline to its latest record', () => {
    const merges = data(entries, 'experiment_merged');
    const page = read(site, 'records.html');
    const rows = [...page.matchAll(/<tr><td class="time">([^<]+)<td><a href="\.\/experiments\/(\d+)\.html">#(\d+)<\/a>/g)];
    expect(rows.map((r) => Number(r[3]))).toEqual(merges.map((m) => m.pr).reverse());
    for (const cls of new Set(merges.map((m) => m.hardware_class))) {
      const first = data(entries, 'baseline_recorded').find((b) => b.hardware_class === cls)!;
      const last = merges.filter((m) => m.hardware_class === cls).pop()!;
      expect(read(site, 'index.html')).toContain(`<strong>${cls}</strong>: from <strong>${first.mean.toFixed(4)}</strong> to <strong>${last.val_bpb.toFixed(4)}</strong> val_bpb`);
    }
    // the merge commit is in the API and on the page
    const merged = all.filter((e) => e.status === 'merged');
    for (const e of merged) expect(e.merge_sha).toBe(merges.find((m) => m.pr === e.pr)!.merge_sha);
    expect(read(site, merged[0].url)).toContain(`/commit/${merged[0].merge_sha}">merge commit`);
  });

  it('splits contributors into experiment authors and GPU owners, logins linked to GitHub but for ones GitHub could not have', () => {
    const page = read(site, 'contributors.html');
    const [, authors, owners] = page.split(/<h2>(?:Experiment authors|GPU owners)<\/h2>/);
    expect(authors).toContain('<a href="https://github.com/alice-agent">alice-agent</a>');
    expect(authors).not.toContain('lab-north');
    expect(owners.split('<h2>')[0]).toContain('<a href="https://github.com/lab-north">lab-north</a>');
    expect(owners.split('<h2>')[0]).not.toContain('alice-agent');
    expect(page).not.toContain('href="https://github.com/&lt;b&gt;');
  });

  it('keeps loss curves out of the pages, in small files the pages\' chart reads, and every row in experiments/all.json', () => {
    const e = all.find((x) => x.status === 'discarded')!;
    const result = data(entries, 'result_recorded').find((r) => r.job_id === e.job_id)!;
    const curve = json(site, `experiments/curves/${e.id}.json`) as { d_step: number[]; m_bpb: number[] };
    const points = result.result!.loss_curve;
    expect(curve.d_step).toHaveLength(Math.min(points.length, 64));
    let step = 0;
    curve.d_step.forEach((d, i) => {
      step += d;
      expect(step).toBe(points[i].step); // the fixture's 12 points are all shown
      expect(curve.m_bpb[i]).toBe(Math.round((points[i].loss / Math.LN2) * 1000));
    });
    expect(read(site, e.url)).not.toContain(String(points[3].loss));
    const rows = (json(site, 'experiments/all.json') as { rows: unknown[][] }).rows;
    expect(rows.map((r) => r[0])).toEqual(all.map((x) => x.id));
  });

  it('links only to files that exist in the site', () => {
    const pages = ['index.html', 'records.html', 'contributors.html', 'ledger.html', 'experiments/index.html', 'experiments/page-1.html', 'experiments/page-2.html', ...all.slice(0, 30).map((e) => e.url), ...all.filter((e) => e.status === 'merged').map((e) => e.url)];
    let checked = 0;
    for (const page of pages) {
      for (const [, target] of read(site, page).matchAll(/(?:href|src|data-src|data-compare|data-all)="([^"#]+)"/g)) {
        if (/^https?:/.test(target)) continue;
        expect({ page, target, exists: existsSync(join(site, page, '..', target)) }).toEqual({ page, target, exists: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('renders hostile titles, logins, diffs and logs as text', () => {
    const e = all.find((x) => x.pr === HOSTILE.pr)!;
    const page = read(site, e.url);
    const table = read(site, `experiments/page-${Math.floor(all.indexOf(e) / PER_PAGE) + 1}.html`);
    for (const text of [page, table, read(site, 'index.html')]) {
      expect(text).not.toMatch(/<script>window\.__pwned/);
      expect(text).not.toMatch(/<img src=x/);
      expect(text).not.toContain('<b>mallory</b>');
    }
    expect(page).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    expect(page).toContain('&lt;b&gt;mallory&lt;/b&gt;');
    expect(page).toContain('&lt;/pre&gt;&lt;script&gt;window.__pwned=5&lt;/script&gt;');
    expect(page).not.toContain('href="javascript:');
    expect(page).toContain('full log (workflow run): not recorded');
    // the API keeps the text as it is: escaping is the page's business
    expect(e.title).toBe(HOSTILE.title);
  });
});

describe('leaderboard build refuses bad input without losing anything', () => {
  it('stops on a tampered ledger, naming the entry, and writes nothing', async () => {
    const { dir } = writeTestLedger(5, { hostile: false });
    const shard = join(dir, shardFiles(dir)[0].path);
    const lines = readFileSync(shard, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"result_recorded"'));
    const seq = JSON.parse(lines[i]).seq;
    lines[i] = lines[i].replace(/"val_bpb":[0-9.]+/, '"val_bpb":1.0001');
    writeFileSync(shard, lines.join('\n'));
    const out = join(dir, '..', 'site');
    await expect(buildSite(dir, out)).rejects.toThrow(new RegExp(`fails verification at seq ${seq}: .*hash differs`));
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an out dir that holds other files, and leaves them there', async () => {
    const { dir } = writeTestLedger(3, { hostile: false });
    const out = mkdtempSync(join(tmpdir(), 'lb-notsite-'));
    writeFileSync(join(out, 'thesis.tex'), 'precious');
    await expect(buildSite(dir, out)).rejects.toThrow(/already holds files that are not a leaderboard build/);
    expect(read(out, 'thesis.tex')).toBe('precious');
    // an earlier build is replaced
    const site = join(dir, '..', 'site');
    await buildSite(dir, site);
    writeFileSync(join(site, 'stale.html'), 'old');
    await buildSite(dir, site);
    expect(existsSync(join(site, 'stale.html'))).toBe(false);
    expect(existsSync(join(site, SITE_MARKER))).toBe(true);
  });

  it('says what is wrong with a folder that is not a ledger checkout', async () => {
    const notLedger = mkdtempSync(join(tmpdir(), 'lb-empty-'));
    await expect(buildSite(notLedger, join(notLedger, 'site'))).rejects.toThrow(/not a checkout of the ledger branch/);
    mkdirSync(join(notLedger, 'entries'));
    await expect(buildSite(notLedger, join(notLedger, 'site'))).rejects.toThrow(/holds no ledger entries yet/);
  });

  it('shows a missing or altered archived diff as such, and still builds', async () => {
    const { dir, entries } = writeTestLedger(2 * FILE_DIFF_EVERY, { hostile: false });
    // the older entries whose diff is a file beside the ledger
    const results = data(entries, 'result_recorded').filter((d) => d.role === 'candidate' && d.diff_path !== null);
    expect(results).toHaveLength(2);
    writeFileSync(join(dir, results[0].diff_path!), 'diff --git a/x b/x\n');
    const gone = join(dir, results[1].diff_path!);
    writeFileSync(gone, ''); // emptied: the sha256 no longer matches either
    const site = join(dir, '..', 'site');
    await buildSite(dir, site);
    const api = ApiExperimentsPage.parse(json(site, 'api/v1/experiments/page-1.json')).experiments;
    const first = api.find((e) => e.job_id === results[0].job_id)!;
    expect(first.diff).toBeNull();
    expect(read(site, first.url)).toContain('does not match the sha256 recorded in the ledger');
  });

  it('runs from the command line and explains its usage', async () => {
    const run = promisify(execFile);
    const { dir } = writeTestLedger(2, { hostile: false });
    const site = join(dir, '..', 'cli-site');
    const ok = await run('npx', ['tsx', 'leaderboard/src/cli.ts', 'build', dir, site]);
    expect(ok.stdout).toMatch(/built .*: 2 experiments from \d+ ledger entries \(head \d+ [0-9a-f]{64}\)/);
    expect(existsSync(join(site, 'index.html'))).toBe(true);
    // with a cache, the next build of the same ledger is incremental and says so
    const cache = join(dir, '..', 'cli-cache');
    await run('npx', ['tsx', 'leaderboard/src/cli.ts', 'build', dir, site, '--cache', cache]);
    const again = await run('npx', ['tsx', 'leaderboard/src/cli.ts', 'build', dir, site, '--cache', cache]);
    expect(again.stdout).toMatch(/incremental: 0 experiment pages rendered, 2 kept, 0 stale files removed/);
    await expect(run('npx', ['tsx', 'leaderboard/src/cli.ts', 'build', dir, site, '--cache', join(site, 'cache')])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/overlap: the cache would be published/) });
    await expect(run('npx', ['tsx', 'leaderboard/src/cli.ts', 'publish'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command "publish"\nusage: npm run leaderboard -- build/) });
  });
});
