import { Swarm } from './swarm.js';
const sw: any = new (Swarm as any)({ seed: Number(process.argv[3] ?? 1), experiments: 300, faults: true, improvementShare: 0.04 });
const f = await sw.run();
console.log(JSON.stringify({ dd: f.double_dispatches, dc: f.double_charges, ex: sw.examples }));
const pr = Number(process.argv[2]);
for (const e of sw.ledger()) { const d: any = e.data; if (d.pr === pr || (d.job_id && String(d.verifies ?? '').length && false)) console.log(e.seq, e.time.slice(11, 19), e.type, d.sha?.slice(0, 7), d.role ?? '', d.job_id ?? '', 'att', d.attempt ?? '', 'ver', d.verifies ?? '', d.update ?? '', (d.reason ?? '').slice(0, 90)); }
for (const r of sw.gh.workflowRuns.values()) if (r.inputs.pr === String(pr)) console.log('run', r.id, r.inputs.nonce, r.inputs.role, r.head_sha.slice(0,7), r.status, r.started_at ? 'started' : '', new Date(r.created_at).toISOString().slice(11,19));
