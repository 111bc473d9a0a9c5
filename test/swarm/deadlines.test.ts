// Every wait of the one-machine swarm ends (issue 19: its test sat idle in CI with nothing saying
// why). An external agent past --agent-timeout is killed with everything it started; one that
// exits leaving a daemon holding its output does not hold the swarm; a promise past its deadline
// fails naming what was waited for.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitHub } from '../../sim/github/fake.js';
import { runExternalAgent } from '../../swarm/external-agent.js';
import { DeadlineError, within } from '../../swarm/watch.js';

function repo(): { gh: FakeGitHub; sha: string } {
  const gh = new FakeGitHub();
  const sha = gh.commit({ 'trainer/train.ts': 'const LR = 3e-3;\n', 'program.md': 'edit trainer/train.ts\n' }, null);
  return { gh, sha };
}

/** running (a killed child may stay a zombie until whoever adopted it reaps it) */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('the swarm never waits without a deadline', () => {
  it('kills an external agent past its timeout, and the children it started', async () => {
    const { gh, sha } = repo();
    const work = mkdtempSync(join(tmpdir(), 'swarm-deadline-'));
    const lines: string[] = [];
    try {
      const t0 = Date.now();
      const pidFile = join(work, 'child.pid');
      const out = await runExternalAgent({ command: `sleep 60 & echo $! > ${pidFile}; sleep 60`, gh, mainSha: sha, apiDir: join(work, 'none'), apiUrl: null, workRoot: join(work, 'agents'), timeoutSeconds: 1, print: (l) => lines.push(l) });
      expect(out).toBeNull();
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(lines.join('\n')).toMatch(/did not finish within 1 s \(--agent-timeout\); killing it/);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await new Promise((r) => setTimeout(r, 200));
      expect(alive(pid)).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('takes the edit of an agent that exits leaving a daemon with its output open', async () => {
    const { gh, sha } = repo();
    const work = mkdtempSync(join(tmpdir(), 'swarm-deadline-'));
    try {
      const t0 = Date.now();
      const out = await runExternalAgent({ command: `(sleep 60 &); sed -i 's/3e-3/4e-3/' trainer/train.ts`, gh, mainSha: sha, apiDir: join(work, 'none'), apiUrl: null, workRoot: join(work, 'agents'), timeoutSeconds: 30, print: () => {} });
      expect(out?.text).toBe('const LR = 4e-3;\n');
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a wait past its deadline fails naming what it waited for', async () => {
    await expect(within(new Promise(() => {}), 50, "the App's handler of webhook pull_request (delivery 7)")).rejects.toThrow(new DeadlineError("the App's handler of webhook pull_request (delivery 7) did not finish within 0.05 s"));
    await expect(within(Promise.resolve(3), 50, 'x')).resolves.toBe(3);
  });
});
