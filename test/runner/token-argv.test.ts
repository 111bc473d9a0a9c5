// The attack: a volunteer on a shared machine (a lab's GPU server) starts
// `runner join --token ghu_…`. The command line of a process is readable by every local user
// (`ps -eo args`, /proc/<pid>/cmdline), and join runs for days, under npx whose own command line
// holds the token too. Another user copies it and asks the App for runners in the volunteer's
// name: a second "owner" for his own claims' quorum, or forged results that get the volunteer's
// credits reversed. So the CLI takes the token from the environment only (or the device-flow
// login), and refuses one on the command line before it is used or the process lives on.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { JIT_CONFIG_PATH } from '../../runner/protocol.js';
import { cli, exitOf, fakeBin, serve, stubRunnerTarball, tempDir, startedPerTest, until } from './fakes.js';

const pkg = stubRunnerTarball();

const SECRET = 'ghu_volunteers_user_token';
const { servers, children } = startedPerTest();

/** An App that records each request and never answers (join then waits on it, token in argv). */
async function hangingApp(): Promise<{ url: string; calls: string[] }> {
  const calls: string[] = [];
  const app = await serve((req) => {
    if (req.url === JIT_CONFIG_PATH) calls.push(String(req.headers.authorization));
  });
  servers.push(app);
  return { url: app.url, calls };
}

/** A loopback release server with the stub runner package: join gets as far as the App. */
async function runnerFlags(): Promise<string[]> {
  const s = await serve((_req, res) => res.writeHead(200).end(pkg.bytes));
  servers.push(s);
  return ['--runner-url', `${s.url}/runner.tar.gz`, '--runner-sha256', pkg.sha256, '--cache-dir', tempDir()];
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const home = tempDir();
  const bin = fakeBin({ docker: 'exit 1', bwrap: 'exit 1' });
  const child = cli(args, { PATH: `${bin}:/usr/bin:/bin`, HOME: home, ...env });
  children.push(child);
  return { child, home };
}

describe('a GitHub token on the command line', () => {
  it('join refuses it at once, before asking the App for anything, and says to use the environment', async () => {
    const app = await hangingApp();
    const { child, home } = run(['join', '--repo', 'acme/swarm', '--app-url', app.url, '--token', SECRET, '--image', 'x', '--allow-unisolated', ...(await runnerFlags())]);
    const cmdline = () => (existsSync(`/proc/${child.pid}/cmdline`) ? readFileSync(`/proc/${child.pid}/cmdline`, 'utf8') : '');
    await until('join to exit or to use the token', () => child.exitCode !== null || app.calls.length > 0, 20_000);
    // what another local user would read while join runs
    const visible = child.exitCode === null && cmdline().includes(SECRET);
    expect({ visible, calls: app.calls }).toEqual({ visible: false, calls: [] });
    expect(await exitOf(child)).toBe(2);
    expect(child.out()).toMatch(/error: --token puts your GitHub token in the command line, where every user of this machine can read it.*AUTORESEARCH_GITHUB_TOKEN/);
    expect(child.out()).not.toContain(SECRET);
    expect(existsSync(`${home}/stub.log`)).toBe(false);
  });

  it('status refuses it too', async () => {
    const { child } = run(['status', '--repo', 'acme/swarm', '--token', SECRET, '--pages-url', 'http://127.0.0.1:9/']);
    expect(await exitOf(child)).toBe(2);
    expect(child.out()).toMatch(/error: --token puts your GitHub token in the command line.*AUTORESEARCH_GITHUB_TOKEN/);
  });

  it('the same token from AUTORESEARCH_GITHUB_TOKEN reaches the App, and is in no command line', async () => {
    const app = await hangingApp();
    const { child } = run(['join', '--repo', 'acme/swarm', '--app-url', app.url, '--image', 'x', '--allow-unisolated', ...(await runnerFlags())], {
      AUTORESEARCH_GITHUB_TOKEN: SECRET,
    });
    await until('join to ask the App', () => app.calls.length > 0 || child.exitCode !== null, 20_000);
    expect(app.calls).toEqual([`Bearer ${SECRET}`]);
    expect(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')).not.toContain(SECRET);
    expect(child.out()).toContain('token from $AUTORESEARCH_GITHUB_TOKEN');
  });
});
