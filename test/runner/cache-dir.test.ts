// The attack: `runner join --cache-dir /tmp/ars` (or a cache on a shared scratch disk) where
// another user of the machine can write. The cache holds the verified runner, trusted from then
// on by its marker file, and the per-job copies the runner starts from. The other user plants
// `actions-runner-<version>/` with the marker and a run.sh of his own (or swaps a job's copy
// between its creation and its start): join starts his program with the runner's JIT config in
// its environment, as the volunteer, on every job. So join refuses a cache directory that anyone
// but the volunteer (or root) could write or rename, naming it and the fix, before it uses it.
import { describe, expect, it } from '@jest/globals';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JoinLoop } from '../../runner/join-loop.js';
import { JIT_CONFIG_PATH } from '../../runner/protocol.js';
import { privateDirProblem } from '../../runner/private-dir.js';
import { cli, exitOf, fakeBin, fakeJitConfig, serve, stubRunnerTarball, tempDir, startedPerTest, until } from './fakes.js';

const pkg = stubRunnerTarball();
const { servers, children } = startedPerTest();

async function app(): Promise<{ url: string; calls: number[] }> {
  const calls: number[] = [];
  const s = await serve((req, res) => {
    if (req.url !== JIT_CONFIG_PATH) return void res.writeHead(404).end();
    calls.push(calls.length + 1);
    res.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({ runner_name: 'ars-octocat-1', runner_id: 1, labels: [], encoded_jit_config: fakeJitConfig('ars-octocat-1', 'acme/swarm', 'the-volunteers-runner-credential') }),
    );
  });
  servers.push(s);
  return { url: s.url, calls };
}

/** A cache directory every user may write (a shared /tmp/ars, mode 0777), with a runner planted in it. */
function plantedCache(loot: string): string {
  const cache = join(tempDir(), 'ars');
  mkdirSync(cache);
  chmodSync(cache, 0o777);
  const planted = join(cache, `actions-runner-custom-${pkg.sha256.slice(0, 12)}`);
  mkdirSync(planted);
  writeFileSync(join(planted, '.autoresearch-sha256'), `${pkg.sha256}\n`);
  writeFileSync(join(planted, 'run.sh'), `#!/bin/sh\necho "planted runner got $ACTIONS_RUNNER_INPUT_JITCONFIG" > '${loot}'\n`);
  chmodSync(join(planted, 'run.sh'), 0o755);
  return cache;
}

describe('the cache directory of runner join', () => {
  it('is refused when other users can write it: a runner planted there never starts', async () => {
    const a = await app();
    const loot = join(tempDir(), 'loot');
    const cache = plantedCache(loot);
    const child = cli(
      ['join', '--repo', 'acme/swarm', '--app-url', a.url, '--image', 'x', '--allow-unisolated', '--max-jobs', '1', '--runner-url', 'http://127.0.0.1:9/r.tgz', '--runner-sha256', pkg.sha256, '--cache-dir', cache],
      { PATH: `${fakeBin({ docker: 'exit 1', bwrap: 'exit 1' })}:/usr/bin:/bin`, HOME: tempDir(), AUTORESEARCH_GITHUB_TOKEN: 'ghu_volunteer' },
    );
    children.push(child);
    await until('join to end', () => child.exitCode !== null, 20_000);
    expect({ planted: existsSync(loot) ? readFileSync(loot, 'utf8').trim() : null, appCalls: a.calls.length }).toEqual({ planted: null, appCalls: 0 });
    expect(await exitOf(child)).toBe(2);
    expect(child.out()).toContain(`error: the cache directory ${cache} can be written by other users of this machine (mode 777)`);
    expect(child.out()).toMatch(/chmod go-w .*or pass --cache-dir/);
  });

  it('JoinLoop refuses a work root that others can write (a job copy swapped before its start)', async () => {
    const workRoot = join(tempDir(), 'jobs');
    mkdirSync(workRoot);
    chmodSync(workRoot, 0o757);
    const runnerDir = tempDir();
    writeFileSync(join(runnerDir, 'run.sh'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(runnerDir, 'run.sh'), 0o755);
    const a = await app();
    const loop = new JoinLoop({ appUrl: a.url, repo: 'acme/swarm', hardwareClass: 'cpu-x', auth: { token: 't', source: 'test', renew: null }, runnerDir, workRoot, log: () => {}, maxJobs: 1 });
    await expect(loop.run()).rejects.toThrow(`the job directory ${workRoot} can be written by other users of this machine (mode 757)`);
    expect(a.calls).toEqual([]);
  });

  it('names the ancestor that others could rename it under, and accepts a sticky /tmp', () => {
    const shared = join(tempDir(), 'shared');
    mkdirSync(join(shared, 'mine'), { recursive: true });
    chmodSync(shared, 0o777);
    expect(privateDirProblem(join(shared, 'mine'), 'the cache directory')).toMatch(new RegExp(`^the cache directory ${join(shared, 'mine')} is inside ${shared}, which other users of this machine can write \\(mode 777\\)`));
    chmodSync(shared, 0o1777); // sticky, like /tmp: others cannot rename what is not theirs
    expect(privateDirProblem(join(shared, 'mine'), 'the cache directory')).toBeNull();
    expect(privateDirProblem(tempDir(), 'the cache directory')).toBeNull();
    // group write is open to others unless the group is the volunteer's own, with no other member
    const grouped = tempDir();
    chmodSync(grouped, 0o770);
    if (process.getuid?.() === 0) {
      chownSync(grouped, 0, 1); // another group than root's own
      expect(privateDirProblem(grouped, 'the cache directory')).toMatch(/can be written by other users of this machine \(mode 770\)/);
    }
  });
});
