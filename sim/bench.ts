// `npm run bench:sim [-- N ...]`: CPU per GitHub request through the simulator's in-process fetch
// (Octokit -> fakeFetch -> the fake), with and without the REST-description checks, then swarm runs
// of N experiments (default 300 and 1,000; seed 1, the simulator's defaults): experiments per CPU
// second, CPU and wall seconds, API calls per experiment. Figures are printed, not asserted; the
// machine's load average is printed with them (CPU seconds barely move with load, wall seconds do).
import { Octokit } from '@octokit/rest';
import { loadavg } from 'node:os';
import { FakeGitHub, OWNER, REPO } from './github/fake.js';
import { fakeFetch } from './github/fetch.js';
import { DEFAULTS, Swarm } from './swarm.js';

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function perRequest(checkEvery: number, n: number): Promise<number> {
  const gh = new FakeGitHub();
  const main = gh.commit({ 'trainer/train.ts': 'x' }, null, 'initial');
  gh.refs.set('heads/main', main);
  gh.pulls.set(1, { number: 1, title: 't', user: 'a', head: main, files: [], labels: [], state: 'open', merged: false, created_at: '2026-12-01T00:00:00Z' });
  const net = fakeFetch(gh, { checkEvery });
  const octokit = new Octokit({ request: { fetch: net.fetch } });
  const repo = { owner: OWNER, repo: REPO };
  await octokit.rest.pulls.get({ ...repo, pull_number: 1 }); // warm: the description loads once
  const t0 = cpu();
  for (let i = 0; i < n; i++) {
    await octokit.rest.pulls.get({ ...repo, pull_number: 1 });
    await octokit.rest.issues.addLabels({ ...repo, issue_number: 1, labels: ['x'] });
  }
  return ((cpu() - t0) / (2 * n)) * 1000;
}

const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const unchecked = await perRequest(0, 500);
const checked = await perRequest(1, 500);
process.stdout.write(`in-process fetch: ${unchecked.toFixed(2)} ms CPU per request unchecked, ${checked.toFixed(2)} ms with every request and answer checked against the REST description\n`);
for (const n of sizes.length ? sizes : [300, 1000]) {
  const load = loadavg()[0];
  const f = await new Swarm({ experiments: n, seed: 1 }).run();
  process.stdout.write(
    `swarm, ${n} experiments (seed 1, 1 in ${DEFAULTS.checkEvery} requests checked): ${(f.experiments / f.cpu_seconds).toFixed(1)} experiments per CPU second; ${f.cpu_seconds} s CPU (${((f.cpu_seconds / f.experiments) * 1000).toFixed(0)} ms per experiment), wall ${f.wall_seconds} s, ${f.api_calls_per_experiment} API calls per experiment, ${f.ledger_entries} ledger entries (load average ${load.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after)\n`,
  );
}
