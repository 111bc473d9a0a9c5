// The built site in real headless Chromium (Debian's, driven by playwright-core), served from a
// loopback server. Every request that would leave loopback is aborted and recorded.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LedgerEntry } from '../../ledger/index.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { candidatesByClass, HOSTILE, writeTestLedger } from './fixture.js';
import { serveDir } from '../../leaderboard/src/static-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDir>>;
let entries: LedgerEntry[];
let shots: string;
const leftLoopback: string[] = [];

async function open(path: string, js = true): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 900 } });
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

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  const ledger = writeTestLedger(60);
  entries = ledger.entries;
  const out = join(ledger.dir, '..', 'site');
  await buildSite(ledger.dir, out);
  server = await serveDir(out);
  shots = mkdtempSync(join(tmpdir(), 'lb-shots-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the leaderboard in Chromium', () => {
  it('draws one progress chart per class with one point per experiment', async () => {
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
    const shot = join(shots, 'index.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`leaderboard screenshot: ${shot}`);
    await page.context().close();
  });

  it('sorts and filters the experiments table, and a click reaches the experiment with its diff', async () => {
    const page = await open('experiments/index.html');
    const bpbColumn = () => page.$$eval('table.experiments tbody tr:not([hidden]) td:nth-child(6)', (tds) => tds.map((td) => td.getAttribute('data-v')));
    const sortButton = page.locator('table.experiments th', { hasText: 'val_bpb' }).locator('button');
    await sortButton.click();
    const asc = (await bpbColumn()).filter((v) => v !== '').map(Number);
    expect(asc.length).toBeGreaterThan(10);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect((await bpbColumn()).slice(-1)[0]).toBe(''); // unscored runs sort last
    await sortButton.click();
    const desc = (await bpbColumn()).filter((v) => v !== '').map(Number);
    expect(desc).toEqual([...asc].reverse());

    await page.fill('form.filter input[name=q]', 'fatima');
    const authors = await page.$$eval('table.experiments tbody tr:not([hidden]) td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
    expect(authors.length).toBeGreaterThan(0);
    expect(new Set(authors)).toEqual(new Set(['fatima']));
    await page.fill('form.filter input[name=q]', '');

    await page.selectOption('form.filter select[name=status]', 'merged');
    const statuses = await page.$$eval('table.experiments tbody tr:not([hidden])', (rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['merged']));

    // open the best merged experiment (first row after sorting ascending again)
    await sortButton.click();
    const link = page.locator('table.experiments tbody tr:not([hidden])').first().locator('td').first().locator('a');
    const prText = (await link.textContent()) ?? '';
    await link.click();
    await page.waitForURL(/experiments\/\d+\.html$/);
    await expect(page.locator('h1').textContent()).resolves.toContain(`PR ${prText}`);
    const inserted = await page.locator('.d2h-ins td:last-child').allTextContents();
    const deleted = await page.locator('.d2h-del td:last-child').allTextContents();
    expect(inserted.join('\n')).toMatch(/^const \w+ = .+;/m);
    expect(deleted.join('\n')).toMatch(/^const \w+ = .+;/m);
    expect(inserted).not.toEqual(deleted);
    await page.waitForFunction(() => document.querySelector('figure.loss')?.getAttribute('data-rendered-points') !== null);
    expect(await page.locator('figure.loss').getAttribute('data-rendered-points')).toBe('12');
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
    expect((await page.locator('.d2h-ins td:last-child').allTextContents()).join('\n')).toContain(HOSTILE.diffLine);
    await expect(page.locator('.meta').textContent()).resolves.toContain(HOSTILE.author);
    expect(await page.locator(`a[href^="javascript:"]`).count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.context().close();
  });

  it('keeps the core content without JavaScript', async () => {
    const page = await open('experiments/index.html', false);
    const rows = await page.locator('table.experiments tbody tr').count();
    expect(rows).toBe(61);
    const first = page.locator('table.experiments tbody tr').nth(1).locator('a').first();
    await first.click();
    await page.waitForURL(/experiments\/\d+\.html$/);
    expect(await page.locator('.d2h-ins').count()).toBeGreaterThan(0);
    await page.context().close();
  });

  it('never asked for anything outside loopback', () => {
    expect(leftLoopback).toEqual([]);
  });
});
