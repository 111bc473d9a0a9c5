// npm run bench:leaderboard [-- 1000,10000]: build time and output size of the site for simulated
// ledgers of 1,000, 10,000 and 100,000 experiments. Targets at 100,000: index.html < 500 KB and
// the build < 10 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLedgerDir } from '../../ledger/index.js';
import { buildSite } from './build.js';
import { sampleLedger } from './sample-ledger.js';

const sizes = (process.argv[2] ?? '1000,10000,100000').split(',').map(Number);
const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

// This machine is shared: wall time depends on the load, so the CPU time is printed beside it.
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
console.log('experiments | ledger entries | build wall s | build CPU s | files | site size | index.html | generate+write ledger s');
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'lb-bench-'));
  try {
    const t0 = performance.now();
    const sample = sampleLedger({ experiments: n });
    writeLedgerDir(join(dir, 'ledger'), sample.entries, sample.files);
    const prep = (performance.now() - t0) / 1000;
    const r = await buildSite(join(dir, 'ledger'), join(dir, 'site'));
    console.log(`${n} | ${r.entries} | ${(r.ms / 1000).toFixed(2)} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.files} | ${MB(r.bytes)} | ${(r.indexBytes / 1024).toFixed(0)} KB | ${prep.toFixed(1)}`);
    console.log(`    phases, wall/CPU s: ${Object.entries(r.phases).map(([k, v]) => `${k} ${(v.wallMs / 1000).toFixed(1)}/${(v.cpuMs / 1000).toFixed(1)}`).join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
