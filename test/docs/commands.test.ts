// Every command the README, program.md and docs/*.md show a reader: each one is either run here,
// as written (placeholders filled with a sample ledger and temp dirs), or named with the reason it
// is not (it trains for minutes, needs GitHub or the App's secrets, installs, or is the test suite
// itself). A command added to the docs and known to no rule below fails this test until it is.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLedgerDir } from '../../ledger/index.js';
import { sampleLedger } from '../../leaderboard/src/sample-ledger.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', 'program.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Command lines in fenced blocks and inline code that start with npm or npx (comments dropped, `a && b` split). */
export function documentedCommands(markdown: string): string[] {
  const found: string[] = [];
  const fenced = /```[a-z]*\n([\s\S]*?)```/g;
  for (const m of markdown.matchAll(fenced)) found.push(...m[1].split('\n'));
  for (const m of markdown.replace(fenced, '').matchAll(/`([^`\n]+)`/g)) found.push(m[1]);
  return found
    .flatMap((line) => line.replace(/\s+#.*$/, '').split(/\s*(?:&&|;)\s*/))
    .map((c) => c.trim().replace(/\s+/g, ' '))
    .filter((c) => /^(npm|npx) /.test(c));
}

let work: string;
let ledgerDir: string;
let head: { seq: number; hash: string };

type Ran = { code: number | null; stdout: string; stderr: string };
function sh(command: string, timeout = 120_000): Ran {
  const r = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', timeout, env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Fills a documented command's placeholders with real values from the sample ledger. */
function fill(command: string): string {
  return command
    .replace(/<ledger checkout>|<checkout>|<ledger>/g, ledgerDir)
    .replace(/<out>/g, join(work, `site-${Math.random().toString(36).slice(2, 8)}`))
    .replace(/<seq>:<hash>|SEQ:HASH/g, `${head.seq}:${head.hash}`)
    .replace(/<login>/g, 'bob')
    .replace(/\[checkout\]/g, ledgerDir) // the optional dir defaults to the one you are in: here, it is named
    .replace(/ \[[^\]]*\]/g, ''); // other optional parts in brackets
}

interface Rule {
  match: RegExp;
  /** why it is not run here */
  skip?: string;
  /** run it and check what a reader would */
  run?: (command: string) => Promise<void> | void;
}

const ok = (command: string, expectOut?: RegExp) => {
  const r = sh(command);
  if (r.code !== 0) throw new Error(`\`${command}\` exited ${r.code}:\n${r.stderr}${r.stdout}`);
  if (expectOut) expect(r.stdout).toMatch(expectOut);
};

const RULES: Rule[] = [
  { match: /^npm ci$/, skip: 'installs the dependencies: this test runs in an installed checkout' },
  { match: /^npm (test|run typecheck)$/, skip: 'the test suite and the type check themselves' },
  { match: /^(\S+=\S+ )*npm start$/, skip: "the App: needs a registered App's APP_ID, PRIVATE_KEY and WEBHOOK_SECRET" },
  { match: /^npm run bench:\w+$/, skip: 'a benchmark: minutes of CPU' },
  { match: /^npm run build:action$/, skip: 'test/action checks that action/dist is the bundle this command writes' },
  { match: /^npm run experiment( -- --budget 60)?$/, skip: 'trains for 60-300 s' },
  { match: /^npm run experiment -- \[options\]$/, skip: 'a synopsis, not a command line' },
  { match: /^npx tsx (trainer\/kernels\/bench-step\.ts|app\/replay\.ts) /, skip: 'a profile run of the training step / a replay that needs a webhook payload saved from GitHub' },
  { match: /^npx autoresearch-swarm runner /, skip: 'the published package (branch platform makes it installable); the same CLI from a checkout is `npm run runner`' },
  { match: /^npm run runner -- doctor --repo <owner>\/<repo>$/, skip: "reads the swarm's config from GitHub for its trainer image" },
  { match: /^npm run( -s| --silent)?( \w+)?( -- \w+)?( \.\.\.)?$/, skip: 'a script named in prose, not a command line' },
  { match: /^npm run (ledger|runner) -- \S+\\\|/, skip: 'a synopsis of several commands' },
  { match: /^npm run swarm -- /, skip: 'the whole swarm with real training for minutes; test/swarm runs a short one' },
  { match: /^npm (pack|install -g|publish)$/, skip: 'packs, installs globally or publishes the CLI; test/packaging packs and installs the tarball' },
  { match: /^npx --yes --package \.\/autoresearch-swarm-[\d.]+\.tgz /, skip: 'needs the tarball `npm pack` writes; test/packaging runs the packed CLI' },
  { match: /^npm run pack:gpu$/, skip: 'packs Node, the harness and Dawn for a GPU machine: minutes, and the npm registry' },
  { match: /^npm run build:app$/, skip: 'test/app/image.test.ts compiles the App this way and starts it' },
  { match: /^npm run bench:(trainer|probes) -- /, skip: 'a benchmark: minutes of CPU (a GPU for node-gpu and webgpu)' },
  { match: /^npm run( -s)? pin-data( -- --config \.github\/autoresearch\.yml| \.\.\.)?( > pins\.yml)?$/, skip: 'downloads FineWeb-Edu shards: needs the network (test/trainer/remote-data.test.ts runs it against a loopback server)' },
  { match: /^npm run experiment -- --pins /, skip: 'needs the pinned FineWeb-Edu shards downloaded' },
  { match: /^npm run experiment -- --backend wasm --steps \d+ --out runs\/\w+$/, skip: 'trains 2000 steps: minutes of CPU (test/trainer/replay.test.ts runs short step budgets)' },
  { match: /^npm run simulate -- --help$/, run: (c) => ok(c, /--adversaries/) },
  { match: /^npm run simulate:sweep -- /, skip: 'a sweep of simulations over seeds and adversary shares: minutes of CPU (test/sim/sweep.test.ts runs a short one)' },
  { match: /^npm run simulate -- /, skip: 'a simulation of hundreds of experiments: minutes of CPU (test/sim runs short seeded ones)' },
  { match: /^npm run experiment -- --help$/, run: (c) => ok(c, /--budget <seconds>/) },
  {
    // the line agents copy to get a machine-readable result: the file must be the result alone
    match: /^npm run -s experiment -- --backend wasm --json > result\.json$/,
    run: (c) => {
      const file = join(work, 'result.json');
      ok(`${c.replace('> result.json', '')} --budget 1 --eval-bytes 4096 --out ${join(work, 'run')} > ${file}`);
      const result = JSON.parse(readFileSync(file, 'utf8'));
      expect(result).toMatchObject({ status: 'ok', backend: 'wasm' });
    },
  },
  { match: /^npm run ledger -- (verify|balance|head) /, run: (c) => ok(fill(c), /ledger OK|balance|"hash"/) },
  {
    match: /^npm run leaderboard -- build /,
    run: (c) => {
      const filled = fill(c);
      ok(filled, /^built .*: \d+ experiments/m);
      expect(existsSync(join(filled.split(' ')[6], 'index.html'))).toBe(true);
    },
  },
  {
    match: /^npm run leaderboard -- preview( <site dir>| \[<site dir>\])?$/,
    run: async (c) => {
      const site = join(work, 'preview-site');
      ok(`npm run -s leaderboard -- build ${ledgerDir} ${site}`);
      // its own process group: Ctrl-C (SIGINT to the group) stops npm, tsx and the server together
      const child = spawn('sh', ['-c', c.replace('npm run', 'npm run -s').replace(/\[?<site dir>\]?/, site)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const exited = new Promise((done) => child.on('exit', done));
      try {
        let out = '';
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000);
          child.stdout!.on('data', (d) => {
            out += d;
            const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]);
            }
          });
          child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
        });
        const page = await fetch(url, { headers: { connection: 'close' } });
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<title>Progress');
      } finally {
        process.kill(-child.pid!, 'SIGINT');
        await exited;
      }
    },
  },
];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'doc-commands-'));
  ledgerDir = join(work, 'ledger');
  const sample = sampleLedger({ experiments: 20, curvePoints: 8 });
  writeLedgerDir(ledgerDir, sample.entries, sample.files);
  const last = sample.entries[sample.entries.length - 1];
  head = { seq: last.seq, hash: last.hash };
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('documented commands', () => {
  const all = DOCS.flatMap((file) => documentedCommands(readFileSync(join(ROOT, file), 'utf8')).map((command) => ({ file, command })));
  const unique = [...new Map(all.map((c) => [c.command, c])).values()];

  it('finds the commands in README.md, program.md and docs/*.md', () => {
    expect(unique.length).toBeGreaterThan(20);
    expect(unique.map((c) => c.command)).toEqual(expect.arrayContaining(['npm run experiment -- --help', 'npm run -s experiment -- --backend wasm --json > result.json']));
  });

  it('knows every documented command: each is run below or skipped for a stated reason', () => {
    const unknown = unique.filter((c) => !RULES.some((r) => r.match.test(c.command))).map((c) => `${c.file}: ${c.command}`);
    expect(unknown).toEqual([]);
  });

  const runnable = unique.map((c) => ({ ...c, rule: RULES.find((r) => r.match.test(c.command)) })).filter((c) => c.rule?.run);
  it.each(runnable.map((c) => [c.command, c.file, c.rule!] as const))('runs as written: %s (%s)', async (command, _file, rule) => {
    await rule.run!(command);
  });

  it.each([['ledger'], ['leaderboard'], ['runner'], ['experiment'], ['pin-data']])('npm run %s -- --help prints its usage and exits 0', (script) => {
    const r = sh(`npm run -s ${script} -- --help`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage/i);
  });

  it('says to run npm ci, not "sh: tsx: not found", in a checkout without node_modules', () => {
    const bare = mkdtempSync(join(tmpdir(), 'bare-checkout-'));
    const r = spawnSync('sh', ['-c', `mkdir -p scripts && cp ${join(ROOT, 'scripts/need-install.mjs')} scripts/ && cp ${join(ROOT, 'package.json')} . && npm run experiment -- --budget 5`], { cwd: bare, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`npm run experiment needs the project's dependencies, which are not installed (no tsx in ${join(bare, 'node_modules', '.bin')}): run \`npm ci\` in ${bare} first, then run it again.`);
    expect(r.stderr + r.stdout).not.toMatch(/not found/);
  });
});
