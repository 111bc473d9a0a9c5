// The built site in real headless Chromium (Debian's, driven by playwright-core), served from a
// loopback server. Every request that would leave loopback is aborted and recorded. axe-core
// checks every page type for accessibility; layouts are checked at 1280 and 390 px.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LedgerEntry } from '../../ledger/index.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { serveDir } from '../../leaderboard/src/static-server.js';
import { candidatesByClass, HOSTILE, writeTestLedger } from './fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** table and API pages of 20: the 61 experiments span 4 pages, so search and sort must reach past the one shown */
const PER_PAGE = 20;

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDir>>;
let entries: LedgerEntry[];
let shots: string;
let out: string;
const leftLoopback: string[] = [];

async function open(path: string, opts: { js?: boolean; width?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: opts.js ?? true, viewport: { width: opts.width ?? 1280, height: 900 } });
  const page = await context.newPage();
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' && url.origin === new URL(server.url).origin) return route.continue();
    leftLoopback.push(url.href);
    return route.abort();
  });
  await page.goto(server.url + path);
  return page;
}

const results = (type: string) => entries.filter((e) => e.type === type) as LedgerEntry<'result_recorded'>[];
/** an experiment merged after another merge of its class: its page compares its curve with that record's */
function secondRecord(): { seq: number; pr: number; recordPr: number } {
  const merges = entries.filter((e) => e.type === 'experiment_merged') as LedgerEntry<'experiment_merged'>[];
  for (const m of merges) {
    const earlier = merges.find((x) => x.data.hardware_class === m.data.hardware_class && x.seq < m.seq);
    const own = results('result_recorded').find((r) => r.data.role === 'candidate' && r.data.pr === m.data.pr && r.data.sha === m.data.sha)!;
    if (earlier && earlier.seq < own.seq) return { seq: own.seq, pr: m.data.pr, recordPr: earlier.data.pr };
  }
  throw new Error('the fixture has no class with two records');
}

/** One page of each type, as a viewer reaches them. */
const PAGE_TYPES = () => ({
  home: 'index.html',
  records: 'records.html',
  experiments: 'experiments/index.html',
  'experiments page': 'experiments/page-1.html',
  experiment: `experiments/${secondRecord().seq}.html`,
  contributors: 'contributors.html',
  ledger: 'ledger.html',
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  const ledger = writeTestLedger(60);
  entries = ledger.entries;
  out = join(ledger.dir, '..', 'site');
  await buildSite(ledger.dir, out, { perPage: PER_PAGE });
  server = await serveDir(out);
  shots = mkdtempSync(join(tmpdir(), 'lb-shots-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the leaderboard in Chromium', () => {
  it('draws one progress chart per class with one point per experiment; a dot names its PR, title and score, and opens its experiment', async () => {
    const page = await open('index.html');
    const expected = candidatesByClass(entries);
    const figures = page.locator('figure.progress');
    await expect(figures.count()).resolves.toBe(expected.size);
    for (const [cls, n] of expected) {
      const fig = page.locator(`figure.progress[data-class="${cls}"]`);
      await fig.locator('canvas').waitFor();
      await page.waitForFunction((c) => document.querySelector(`figure.progress[data-class="${c}"]`)?.getAttribute('data-rendered-points') !== null, cls);
      expect(await fig.getAttribute('data-rendered-points')).toBe(String(n));
      // the canvas really has ink on it, not just a blank element
      const inked = await fig.locator('canvas').evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      });
      expect(inked).toBeGreaterThan(1000);
    }
    await page.screenshot({ path: join(shots, 'index.png'), fullPage: true });
    console.log(`leaderboard screenshots: ${shots}`);

    // point at a chart's last merged dot: the tip names it; a click opens its page
    const target = await page.evaluate(() => {
      const c = (window as unknown as { leaderboardCharts: { kind: string; data: { kind: string[]; id: number[]; pr: number[]; title: (string | null)[] }; hoverAt: (i: number) => { left: number; top: number }; plot: { over: HTMLElement } }[] }).leaderboardCharts.find((x) => x.kind === 'progress')!;
      const i = c.data.kind.lastIndexOf('merged');
      c.plot.over.scrollIntoView({ block: 'center' });
      const at = c.hoverAt(i);
      const box = c.plot.over.getBoundingClientRect();
      return { x: box.left + at.left, y: box.top + at.top, id: c.data.id[i], pr: c.data.pr[i], title: c.data.title[i], cls: (c.data as unknown as { hardware_class: string }).hardware_class };
    });
    expect(target.title).toBeTruthy();
    await page.mouse.move(target.x, target.y);
    const tip = page.locator(`figure.progress[data-class="${target.cls}"] .tip`);
    await expect(tip.textContent()).resolves.toMatch(new RegExp(`^#${target.pr} ${target.title!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · merged · val_bpb \\d\\.\\d{4} · `));
    await page.mouse.click(target.x, target.y);
    await page.waitForURL(new RegExp(`experiments/${target.id}\\.html$`));
    await page.context().close();
  });

  it('shows every record with its date, PR, title, author, runner, delta and val_bpb, and where each class started and stands', async () => {
    const page = await open('records.html');
    const merges = entries.filter((e) => e.type === 'experiment_merged') as LedgerEntry<'experiment_merged'>[];
    const rows = page.locator('table.records tbody tr');
    await expect(rows.count()).resolves.toBe(merges.length);
    const newest = merges[merges.length - 1];
    const cells = (await rows.first().locator('td').allTextContents()).map((t) => t.trim());
    const result = results('result_recorded').find((r) => r.data.role === 'candidate' && r.data.pr === newest.data.pr)!;
    expect(cells[1]).toContain(`#${newest.data.pr}`);
    expect(cells.slice(2, 6)).toEqual([result.data.title, result.data.author, result.data.runner_owner, newest.data.hardware_class]);
    expect(cells[6]).toBe(`−${Math.abs(newest.data.val_bpb - newest.data.baseline_mean).toFixed(4)}`);
    expect(cells[7]).toBe(newest.data.val_bpb.toFixed(4));
    const story = await page.locator('ul.story li').allTextContents();
    expect(story.join('\n')).toMatch(new RegExp(`${newest.data.hardware_class}: from \\d\\.\\d{4} to ${newest.data.val_bpb.toFixed(4)} val_bpb`));
    await page.context().close();
  });

  it('filters and sorts every experiment, not only the rows on the page, and a click reaches the experiment with its diff', async () => {
    const page = await open('experiments/index.html');
    const shown = await page.locator('table.experiments tbody tr').count();
    expect(shown).toBe(PER_PAGE);
    const column = (n: number) => page.$$eval(`table.experiments tbody tr td:nth-child(${n})`, (tds) => tds.map((td) => td.getAttribute('data-v') ?? td.textContent));
    const classes = () => column(5);

    // sorting by val_bpb sorts each hardware class on its own, over all 61 experiments
    const sortButton = page.locator('table.experiments th', { hasText: 'val_bpb' }).locator('button');
    await sortButton.click();
    await page.waitForFunction(() => /experiments match/.test((document.querySelector('form.filter output') as HTMLOutputElement).value));
    const cls = await classes();
    const firstClass = cls[0];
    const run = cls.findIndex((c) => c !== firstClass);
    const asc = (await column(6)).slice(0, run === -1 ? undefined : run).filter((v) => v !== '').map(Number);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    const lowest = Math.min(...results('result_recorded').filter((r) => r.data.role === 'candidate' && r.data.result?.hardware_class === firstClass && r.data.validated && r.data.result.status === 'ok').map((r) => r.data.result!.val_bpb as number));
    expect(asc[0]).toBe(lowest);
    expect(new Set(cls.slice(0, run)).size).toBe(1);

    // a filter reaches experiments that are not on this page
    await page.fill('form.filter input[name=q]', 'fatima');
    await page.waitForFunction(() => /experiments match/.test((document.querySelector('form.filter output') as HTMLOutputElement).value));
    const authors = await column(3);
    const fatima = results('result_recorded').filter((r) => r.data.role === 'candidate' && r.data.author === 'fatima').length;
    expect(authors).toHaveLength(fatima);
    expect(fatima).toBeGreaterThan(0);
    expect(new Set(authors)).toEqual(new Set(['fatima']));
    await page.fill('form.filter input[name=q]', '');

    await page.selectOption('form.filter select[name=status]', 'merged');
    await page.waitForFunction(() => /experiments match/.test((document.querySelector('form.filter output') as HTMLOutputElement).value));
    const statuses = await page.$$eval('table.experiments tbody tr', (rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(statuses).toHaveLength(entries.filter((e) => e.type === 'experiment_merged').length);
    expect(new Set(statuses)).toEqual(new Set(['merged']));

    // open the best merged experiment (first row, sorted by val_bpb within the first class)
    const link = page.locator('table.experiments tbody tr').first().locator('td').first().locator('a');
    const prText = (await link.textContent()) ?? '';
    await link.click();
    await page.waitForURL(/experiments\/\d+\.html$/);
    await expect(page.locator('h1').textContent()).resolves.toContain(`PR ${prText}`);
    const inserted = await page.locator('pre.diff > ins').allTextContents();
    const deleted = await page.locator('pre.diff > del').allTextContents();
    expect(inserted.join('')).toMatch(/^const \w+ = .+;/m);
    expect(deleted.join('')).toMatch(/^const \w+ = .+;/m);
    expect(inserted).not.toEqual(deleted);
    await page.context().close();
  });

  it('compares an experiment\'s loss curve with the record it tried to beat, and links its neighbours and merge commit', async () => {
    const r = secondRecord();
    const page = await open(`experiments/${r.seq}.html`);
    await page.waitForFunction(() => document.querySelector('figure.loss')?.getAttribute('data-rendered-points') !== null);
    expect(await page.locator('figure.loss').getAttribute('data-rendered-points')).toBe('12');
    const chart = await page.evaluate(() => (window as unknown as { leaderboardCharts: { kind: string; compared: boolean }[] }).leaderboardCharts.find((c) => c.kind === 'loss'));
    expect(chart?.compared).toBe(true);
    await expect(page.locator('figure.loss figcaption').textContent()).resolves.toContain(`#${r.recordPr}, the record it tried to beat`);
    const merge = (entries.find((e) => e.type === 'experiment_merged' && (e as LedgerEntry<'experiment_merged'>).data.pr === r.pr) as LedgerEntry<'experiment_merged'>).data.merge_sha;
    expect(await page.locator(`a[href$="/commit/${merge}"]`).count()).toBe(1);
    await page.locator('a[rel=next]').click();
    await page.waitForURL(/experiments\/\d+\.html$/);
    await page.locator('a[rel=prev]').click();
    await page.waitForURL(new RegExp(`experiments/${r.seq}\\.html$`));
    await page.screenshot({ path: join(shots, 'experiment.png'), fullPage: true });
    await page.context().close();
  });

  it('renders hostile titles, logins, diffs and logs as text, and runs none of their script', async () => {
    const page = await open('experiments/index.html');
    const row = page.locator('table.experiments tbody tr', { hasText: `#${HOSTILE.pr}` });
    await expect(row.locator('td.title').textContent()).resolves.toBe(HOSTILE.title);
    await row.locator('a').first().click();
    await page.waitForURL(/experiments\/\d+\.html$/);
    await expect(page.locator('h1 .title').textContent()).resolves.toBe(HOSTILE.title);
    await expect(page.locator('pre.log').textContent()).resolves.toBe(HOSTILE.log);
    expect((await page.locator('pre.diff > ins').allTextContents()).join('')).toContain(HOSTILE.diffLine);
    await expect(page.locator('.meta').textContent()).resolves.toContain(HOSTILE.author);
    expect(await page.locator(`a[href^="javascript:"]`).count()).toBe(0);
    // searching for it renders the rows from all.json: still text
    await page.goto(server.url + 'experiments/index.html');
    await page.fill('form.filter input[name=q]', 'faster LR');
    await page.waitForFunction(() => /experiments match/.test((document.querySelector('form.filter output') as HTMLOutputElement).value));
    await expect(page.locator('table.experiments tbody td.title').first().textContent()).resolves.toBe(HOSTILE.title);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.context().close();
  });

  it('keeps the core content without JavaScript: the table, the diff, and the loss curve as a sentence', async () => {
    const page = await open('experiments/index.html', { js: false });
    expect(await page.locator('table.experiments tbody tr').count()).toBe(PER_PAGE);
    await page.locator('table.experiments tbody tr').nth(1).locator('a').first().click();
    await page.waitForURL(/experiments\/\d+\.html$/);
    expect(await page.locator('pre.diff > ins').count()).toBeGreaterThan(0);
    await expect(page.locator('figure.loss .curve-text').textContent()).resolves.toMatch(/^Training loss went from \d\.\d{3} bits per byte at step 1 to \d\.\d{3} at step \d+ \(lowest/);
    await page.context().close();
  });

  it('says why the charts are empty when a page is opened from disk', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(pathToFileURL(join(out, 'index.html')).href);
    await expect(page.locator('.disk-note').textContent()).resolves.toContain('npm run leaderboard -- preview');
    await page.waitForFunction(() => document.querySelector('figure.progress')?.getAttribute('data-rendered-points') === 'error');
    await expect(page.locator('figure.progress .chart').first().textContent()).resolves.toContain('opened from disk');
    await context.close();
  });

  it.each([1280, 390])('lays every page type out within %i px: no page-wide horizontal scroll, wide tables scroll in their own box', async (width) => {
    const overflowing: string[] = [];
    for (const [name, path] of Object.entries(PAGE_TYPES())) {
      const page = await open(path, { width });
      await page.waitForLoadState('load');
      const o = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth - window.innerWidth,
        // at 1280 the experiments and records tables fit their box (no column cut off)
        table: Math.max(0, ...Array.from(document.querySelectorAll('.table-scroll')).map((b) => b.scrollWidth - b.clientWidth)),
      }));
      if (o.page > 0) overflowing.push(`${name}: the page is ${o.page} px wider than the window`);
      if (width === 1280 && o.table > 0) overflowing.push(`${name}: a table is ${o.table} px wider than its box`);
      await page.screenshot({ path: join(shots, `${name.replace(/ /g, '-')}-${width}.png`), fullPage: width === 1280 });
      await page.context().close();
    }
    expect(overflowing).toEqual([]);
  });

  it('shows a focus ring on a sort button reached with the keyboard', async () => {
    const page = await open('contributors.html');
    let onSort = false;
    for (let i = 0; i < 40 && !onSort; i++) {
      await page.keyboard.press('Tab');
      onSort = await page.evaluate(() => document.activeElement?.matches('th button.sort') ?? false);
    }
    expect(onSort).toBe(true);
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    await page.context().close();
  });

  it('has no serious or critical accessibility violations (axe-core) on any page type', async () => {
    const found: string[] = [];
    for (const [name, path] of Object.entries(PAGE_TYPES())) {
      const page = await open(path);
      await page.waitForLoadState('load');
      await page.waitForTimeout(300); // charts drawn
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
      });
      for (const v of violations) if (v.impact === 'serious' || v.impact === 'critical') found.push(`${name} (${path}): ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(', ')}`);
      await page.context().close();
    }
    expect(found).toEqual([]);
  });

  it('never asked for anything outside loopback', () => {
    expect(leftLoopback).toEqual([]);
  });
});
