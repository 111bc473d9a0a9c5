// `--agent-cmd`: an external agent (any coding agent, or a script) taking part in the
// one-machine swarm. It gets what an agent gets from a real swarm: a checkout of the current
// main (a temp dir, a git repository with one commit, this install's node_modules so that
// `npm run experiment` works), program.md in it, and the leaderboard's JSON API (a copy in
// .swarm-api/v1/ and the served URL). Its command runs there; its edited trainer/train.ts
// comes back as a PR. Nothing else it changes is taken, as the App would refuse it.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeGitHub } from '../sim/github/fake.js';
import { scrubbedEnv } from '../trainer/isolation.js';
import { checkout } from './runner.js';

export interface ExternalAgentRun {
  command: string;
  gh: FakeGitHub;
  mainSha: string;
  /** the built site's api/ folder (may not exist before the first build) */
  apiDir: string;
  apiUrl: string | null;
  /** rewrites the API files' github.com links to the local swarm's GitHub pages (as the server does) */
  rewriteApi?: (json: string) => string;
  workRoot: string;
  timeoutSeconds: number;
  print: (line: string) => void;
}

/** Runs the agent once; its train.ts and a title when it changed the file, else null. */
export async function runExternalAgent(o: ExternalAgentRun): Promise<{ title: string; text: string } | null> {
  mkdirSync(o.workRoot, { recursive: true });
  const dir = mkdtempSync(join(o.workRoot, 'agent-'));
  try {
    checkout(o.gh, o.mainSha, dir);
    if (existsSync(o.apiDir)) {
      cpSync(o.apiDir, join(dir, '.swarm-api'), { recursive: true });
      if (o.rewriteApi) {
        for (const f of readdirSync(join(dir, '.swarm-api'), { recursive: true, encoding: 'utf8' })) {
          const file = join(dir, '.swarm-api', f);
          if (f.endsWith('.json')) writeFileSync(file, o.rewriteApi(readFileSync(file, 'utf8')));
        }
      }
    }
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'swarm', GIT_AUTHOR_EMAIL: 'swarm@localhost', GIT_COMMITTER_NAME: 'swarm', GIT_COMMITTER_EMAIL: 'swarm@localhost' } });
    try {
      git('init', '-q', '-b', 'main');
      execFileSync('sh', ['-c', 'printf "node_modules\\n.swarm-api\\n" > .git/info/exclude'], { cwd: dir });
      git('add', '-A');
      git('commit', '-q', '-m', `main ${o.mainSha.slice(0, 7)}`);
    } catch {
      // without git the agent still gets the files
    }
    const before = readFileSync(join(dir, 'trainer/train.ts'), 'utf8');
    const env = {
      ...scrubbedEnv(process.env),
      SWARM_API_DIR: join(dir, '.swarm-api', 'v1'),
      ...(o.apiUrl ? { SWARM_API_URL: o.apiUrl } : {}),
      SWARM_PROGRAM: join(dir, 'program.md'),
      SWARM_TITLE_FILE: join(dir, '.swarm-title'),
    };
    o.print(`running \`${o.command}\` in ${dir}`);
    const code = await new Promise<number | string>((resolve) => {
      // a process group of its own: the deadline ends the agent and everything it started
      const child = spawn('sh', ['-c', o.command], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const relay = (d: Buffer) => {
        for (const l of d.toString('utf8').split('\n')) if (l.trim()) o.print(`  | ${l}`);
      };
      child.stdout.on('data', relay);
      child.stderr.on('data', relay);
      let late = false;
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        late = true;
        o.print(`the command did not finish within ${o.timeoutSeconds} s (--agent-timeout); killing it`);
        killGroup();
      }, o.timeoutSeconds * 1000);
      let settled = false;
      const done = (v: number | string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(late ? `a kill after ${o.timeoutSeconds} s` : v);
      };
      child.on('close', (c, sig) => done(c ?? sig ?? 'unknown'));
      // a daemon it left behind may keep the pipes open: the exit of the command is the end
      child.on('exit', (c, sig) => {
        setTimeout(() => {
          killGroup();
          child.stdout.destroy();
          child.stderr.destroy();
          done(c ?? sig ?? 'unknown');
        }, 1000).unref();
      });
      child.on('error', () => done('not started'));
    });
    const file = join(dir, 'trainer/train.ts');
    const after = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (code !== 0) {
      o.print(`the command exited with ${code}; no PR`);
      return null;
    }
    if (!after || after === before) {
      o.print('trainer/train.ts unchanged; no PR');
      return null;
    }
    const titleFile = join(dir, '.swarm-title');
    const title = existsSync(titleFile) ? readFileSync(titleFile, 'utf8').trim().split('\n')[0].slice(0, 200) : '';
    return { title: title || `external agent: ${firstChange(before, after)}`, text: after };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function firstChange(before: string, after: string): string {
  const old = new Set(before.split('\n'));
  return (after.split('\n').find((l) => !old.has(l) && l.trim()) ?? 'an edit').trim().slice(0, 80);
}
