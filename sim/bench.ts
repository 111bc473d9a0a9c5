// `npm run bench:sim`: CPU per GitHub request through the simulator's in-process fetch (Octokit
// -> fakeFetch -> the fake), with and without the REST-description checks, and a short swarm run's
// CPU per experiment. Figures are printed, not asserted.
import { Octokit } from '@octokit/rest';
import { loadavg } from 'node:os';
import { FakeGitHub, OWNER, REPO } from './github/fake.js';
import { fakeFetch } from './github/fetch.js';
import { Swarm } from './swarm.js';

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

const unchecked = await perRequest(0, 500);
const checked = await perRequest(1, 500);
const f = await new Swarm({ experiments: 100, seed: 1, checkEvery: 25 }).run();
process.stdout.write(
  [
    `in-process fetch: ${unchecked.toFixed(2)} ms CPU per request unchecked, ${checked.toFixed(2)} ms with every request and answer checked against the REST description`,
    `swarm, 100 experiments (seed 1, 1 in 25 checked): ${f.cpu_seconds} s CPU, ${((f.cpu_seconds / f.experiments) * 1000).toFixed(0)} ms per experiment, ${f.api_calls_per_experiment} API calls per experiment; wall ${f.wall_seconds} s (load average ${loadavg()[0].toFixed(1)})`,
  ].join('\n') + '\n',
);
