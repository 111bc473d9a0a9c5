// `runner status` against a real leaderboard: a ledger made by the ledger module, built into a
// site by the leaderboard generator, served on loopback. The figures it prints must be the
// ledger's own balances for that login.
import { describe, it, expect, afterAll } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeBalances, type LedgerEntry } from '../../ledger/index.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { writeTestLedger } from '../leaderboard/fixture.js';
import { serveDir } from '../../leaderboard/src/static-server.js';
import { readStatus } from '../../runner/status.js';
import { cli, exitOf } from './fakes.js';

const ledger = writeTestLedger(24, { hostile: false });
const site = join(mkdtempSync(join(tmpdir(), 'ars-site-')), 'site');
const served = buildSite(ledger.dir, site).then(() => serveDir(site));
afterAll(async () => (await served).close());

const owners = [...new Set(ledger.entries.filter((e) => e.type === 'runner_registered').map((e) => (e as LedgerEntry<'runner_registered'>).data.owner))];
const jobsOf = (login: string) =>
  ledger.entries.filter((e) => e.type === 'result_recorded' && (e as LedgerEntry<'result_recorded'>).data.runner_owner === login).length;
const fmt = (x: number) => (Math.round(x * 10) / 10).toLocaleString('en-US');

describe('runner status', () => {
  it("prints a runner owner's credits and runners exactly as the ledger computes them", async () => {
    const { url } = await served;
    const login = owners.find((o) => jobsOf(o) > 0)!;
    const b = computeBalances(ledger.entries).get(login)!;
    expect(b.earned).toBeGreaterThan(0);
    const child = cli(['status', '--repo', 'swarm-org/autoresearch-swarm', '--pages-url', url, '--login', login], { PATH: process.env.PATH, HOME: tmpdir() });
    expect(await exitOf(child)).toBe(0);
    const out = child.out();
    expect(out).toContain(`credits: earned ${fmt(b.earned)}, pending ${fmt(b.pending)} (waiting for verification), spent ${fmt(b.spent)}, balance ${fmt(b.balance)}`);
    const myRunners = ledger.entries.filter((e) => e.type === 'runner_registered' && (e as LedgerEntry<'runner_registered'>).data.owner === login);
    expect(out).toContain(`runners: ${myRunners.length}`);
    for (const r of myRunners) expect(out).toContain((r as LedgerEntry<'runner_registered'>).data.runner_name);
  });

  it('lists the jobs that ran on the owner’s runners, newest first', async () => {
    const { url } = await served;
    const login = owners.find((o) => jobsOf(o) > 0)!;
    const s = await readStatus({ pagesUrl: url, login, pages: 1000 });
    expect(s.jobs).toHaveLength(jobsOf(login));
    expect(s.jobs.every((j) => j.runner_owner === login)).toBe(true);
    expect([...s.jobs].sort((a, b) => b.time.localeCompare(a.time)).map((j) => j.id)).toEqual(s.jobs.map((j) => j.id));
  });

  it('says so when the login has no record yet, and names a wrong leaderboard URL', async () => {
    const { url } = await served;
    const s = await readStatus({ pagesUrl: url, login: 'newcomer' });
    expect(s.contributor).toBeNull();
    expect(s.runners).toEqual([]);
    await expect(readStatus({ pagesUrl: url + 'nowhere/', login: 'x' })).rejects.toThrow(/the leaderboard answered HTTP 404 for .*nowhere\/api\/v1\/contributors\.json; check --pages-url/);
  });
});
