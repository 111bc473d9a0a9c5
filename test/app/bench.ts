// `npm run bench:app`: GitHub API calls over one experiment's whole life (queue to merge or
// discard), by phase, and webhook events handled per second with GitHub faked in-process.
// Figures are printed, not asserted.
import { it, afterAll } from '@jest/globals';
import nock from 'nock';
import { recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { World, notModifiedCalls, resetNotModified } from './world.js';

const GOOD = 'export const LR = 6e-4;\n';
const lines: string[] = [];

interface Phase {
  name: string;
  calls: string[];
  /** requests answered 304 Not Modified: free against the rate limit */
  free: number;
}

function phase(name: string): Phase {
  const calls = recordedCalls().filter((c) => !c.includes('/access_tokens'));
  const free = notModifiedCalls();
  resetRecordedCalls();
  resetNotModified();
  return { name, calls, free };
}

function report(title: string, phases: Phase[]) {
  const total = phases.reduce((n, p) => n + p.calls.length, 0);
  const free = phases.reduce((n, p) => n + p.free, 0);
  lines.push(`${title}: ${total - free} GitHub API calls counted against the rate limit (${total} requests, ${free} of them answered 304; installation token excluded: one per hour)`);
  for (const p of phases) {
    lines.push(`  ${p.name.padEnd(40)} ${String(p.calls.length - p.free).padStart(3)}${p.free ? ` +${p.free} free` : ''}  ${summarize(p.calls)}`);
  }
}

function summarize(calls: string[]): string {
  const counts = new Map<string, number>();
  for (const c of calls) {
    const short = c.replace('/repos/{owner}/{repo}', '');
    counts.set(short, (counts.get(short) ?? 0) + 1);
  }
  return [...counts].map(([c, n]) => (n > 1 ? `${n}x ${c}` : c)).join(', ');
}

it('API calls for one discarded experiment (cold App process)', async () => {
  const w = new World();
  resetRecordedCalls();
  resetNotModified();
  await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
  const a = phase('PR opened: validate + dispatch');
  await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
  const b = phase('result: score + discard');
  report('Discarded experiment, cold process', [a, b]);
});

/** A World whose App process has already handled one experiment (caches and ledger head warm). */
async function warmWorld(): Promise<World> {
  const w = new World();
  await w.push(6, 'octo-agent', { 'trainer/train.ts': 'export const LR = 5e-4;\n' });
  await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
  resetRecordedCalls();
  resetNotModified();
  await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
  return w;
}

it('API calls for one discarded experiment (warm App process: second PR)', async () => {
  const w = await warmWorld();
  const a = phase('PR opened: validate + dispatch');
  await w.complete(w.gh.dispatches[1], 'runner-a', 1.99);
  const b = phase('result: score + discard');
  report('Discarded experiment, warm process', [a, b]);
});

it('API calls for one merged experiment (warm App process)', async () => {
  const w = await warmWorld();
  const a = phase('PR opened: validate + dispatch');
  await w.complete(w.gh.dispatches[1], 'runner-a', 1.9);
  const b = phase('claim: score + dispatch verify');
  await w.complete(w.gh.dispatches[2], 'runner-b', 1.9);
  const c = phase('verify: score + merge + 5 baselines');
  report('Merged experiment, warm process', [a, b, c]);
});

it('API calls for a push after a discard, and for an experiment that waits in the queue (warm App process)', async () => {
  const w = await warmWorld();
  await w.complete(w.gh.dispatches[1], 'runner-a', 1.99);
  phase('(first life)');
  await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' }, 'synchronize');
  const a = phase('push: validate + dispatch');
  await w.complete(w.gh.dispatches[2], 'runner-a', 1.99);
  const b = phase('result: score + discard');
  report('Second push to a discarded PR, warm process', [a, b]);

  const q = new World({ config: 'max_in_flight: 1\n' });
  await q.push(6, 'octo-agent', { 'trainer/train.ts': 'export const LR = 5e-4;\n' });
  phase('(warm-up)');
  await q.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
  const c = phase('PR opened: validate + queue');
  await q.complete(q.gh.dispatches[0], 'runner-a', 1.99);
  const d = phase('result of the PR ahead (its calls too)');
  await q.complete(q.gh.dispatches[1], 'runner-a', 1.99);
  const e = phase('result: score + discard');
  report('Queued experiment (slots full when opened), warm process', [c, d, e]);
});

it('webhook events handled per second (GitHub faked in-process, one core)', async () => {
  const w = new World({ config: 'max_in_flight: 1000\n' });
  const n = 20;
  // CPU time, not wall time: the figure should not depend on what else the machine runs.
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await w.push(100 + i, `agent-${i}`, { 'trainer/train.ts': `export const LR = ${i}e-5;\n` });
    await w.complete(w.gh.dispatches[i], 'runner-a', 1.99);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  lines.push(
    `Events handled: ${2 * n} (${n} PR opened + ${n} results, ${recordedCalls().length} mocked API calls): ${((2 * n) / cpu).toFixed(1)} events per CPU-second ` +
      `(${((cpu / (2 * n)) * 1000).toFixed(0)} ms CPU per event, App + Probot + Octokit + the nock/fake GitHub layer); wall ${wall.toFixed(1)} s on this machine (load average ${(await import('node:os')).loadavg()[0].toFixed(1)})`,
  );
});

afterAll(() => {
  nock.cleanAll();
  process.stdout.write(`\n${lines.join('\n')}\n`);
});
