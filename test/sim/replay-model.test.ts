// The simulated runners' side of replays (sim/model.ts): an honest outcome is a function of what
// the run was asked to do and the machine's real class, so a replay (same seeds, same schedule)
// reproduces it; what each adversary can put in a replay; the simulated harness's sealed box.
import { describe, it, expect } from '@jest/globals';
import { adversaryKinds, CLASSES, clockSchedule, report, type JobView, type Owner, type PublicRun } from '../../sim/model.js';
import { Rng } from '../../sim/rng.js';
import { sealSeeded } from '../../sim/seal.js';
import { decodeSchedule, ScheduleRecorder } from '../../trainer/replay-schedule.js';
import { open, sealKeyPairFrom } from '../../trainer/seal.js';

const classes = new Map(CLASSES.map((c) => [c.name, c]));
const cpu = CLASSES.find((c) => c.name.startsWith('cpu'))!;
const gpu = CLASSES.find((c) => c.name.startsWith('gpu'))!;
const owner = (behaviour: Owner['behaviour'], machine = cpu, claimed = machine.name, login = `${behaviour}-x`): Owner => ({ login, behaviour, claimedClass: claimed, machine });
// a machine that is always busy, or never
const busy = (c: typeof cpu) => ({ ...c, loadChance: 1 });
const quiet = (c: typeof cpu) => ({ ...c, loadChance: 0 });

const job = (over: Partial<JobView> = {}): JobView => ({
  role: 'candidate',
  pr: 1,
  author: 'agent-1',
  quality: { u: 0 },
  baselineMean: 2.34,
  claim: null,
  threshold: 2.32,
  code: 'a'.repeat(64),
  seed: 11,
  evalSeed: 22,
  budget: 300,
  replay: null,
  original: null,
  ...over,
});

const publicOf = (r: ReturnType<typeof report>, nonce = 'n1', ownerLogin = 'owner-1'): PublicRun => ({ nonce, owner: ownerLogin, val_bpb: r.bpb, schedule: r.schedule, sealed: null, digest: 'digest' in r.proof ? r.proof.digest : null });
const digestOf = (r: ReturnType<typeof report>) => ('digest' in r.proof ? r.proof.digest : null);

describe('honest outcomes replay', () => {
  it('on a deterministic class a replay reproduces val_bpb and the digest bit for bit, whatever the load of either machine', () => {
    const rng = new Rng(1);
    const loaded = report(owner('honest', busy(cpu)), job(), classes, rng);
    // the busy machine trained fewer steps, and scored worse for it
    expect(loaded.steps).toBeLessThan(0.75 * cpu.steps300);
    expect(loaded.bpb).toBeGreaterThan(cpu.base + 0.15);
    expect(loaded.of).toBeNull();
    for (const m of [quiet(cpu), busy(cpu)]) {
      const r = report(owner('honest', m, cpu.name, 'owner-2'), job({ replay: loaded.schedule, original: publicOf(loaded) }), classes, rng);
      expect(r.bpb).toBe(loaded.bpb);
      expect(digestOf(r)).toBe(digestOf(loaded));
      expect(r.schedule).toBe(loaded.schedule);
      expect(r.of).toBe(loaded.schedule);
    }
  });

  it('a replay takes as long as its steps take on the replaying machine; its load changes the time, not the score', () => {
    const rng = new Rng(2);
    const orig = report(owner('honest', quiet(cpu)), job(), classes, rng);
    const slow = report(owner('honest', busy(cpu)), job({ replay: orig.schedule }), classes, rng);
    expect(slow.bpb).toBe(orig.bpb);
    expect(slow.trainSeconds).toBeGreaterThan(1.3 * 300);
    expect(orig.trainSeconds).toBe(300);
  });

  it('a fresh training seed (a run on the clock) is fresh noise: a lucky seed does not repeat', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 200 }, (_, i) => report(owner('honest', quiet(cpu)), job({ seed: i, evalSeed: 1000 + i }), classes, rng).bpb);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    expect(Math.abs(mean - cpu.base)).toBeLessThan(0.005);
    expect(sd).toBeGreaterThan(0.011);
    expect(sd).toBeLessThan(0.018);
  });

  it('on a GPU class honest replays differ by the replay noise only, and their digests differ', () => {
    const rng = new Rng(4);
    const orig = report(owner('honest', quiet(gpu)), job(), classes, rng);
    const diffs = Array.from({ length: 200 }, () => report(owner('honest', quiet(gpu), gpu.name, 'owner-2'), job({ replay: orig.schedule }), classes, rng)).map((r) => {
      expect(digestOf(r)).not.toBe(digestOf(orig));
      return r.bpb - orig.bpb;
    });
    const sd = Math.sqrt(diffs.reduce((a, b) => a + b * b, 0) / diffs.length);
    expect(sd).toBeGreaterThan(gpu.sigmaReplay * 0.8);
    expect(sd).toBeLessThan(gpu.sigmaReplay * 2);
  });

  it("a run on the clock's schedule is what the harness's ScheduleRecorder records at that pace", () => {
    for (const [n, p1, p2] of [[3638, 1, 1], [3638, 0.41, 0.37], [500, 1.02, 0.99], [58_594, 0.6, 0.55], [700, 0.3, 0.3]]) {
      const s1 = Math.floor(n * p1 * 0.5);
      const total = Math.max(1, s1 + Math.floor(n * p2 * 0.5));
      const r = new ScheduleRecorder();
      for (let i = 0; i < total; i++) r.progress(i, i < s1 ? i / (n * p1) : 0.5 + (i - s1) / (n * p2));
      expect(clockSchedule(n, p1, p2)).toEqual(r.schedule());
    }
  });

  it('a run on the clock records a schedule the harness can decode, of about its pace in steps', () => {
    const r = report(owner('honest', quiet(cpu)), job(), classes, new Rng(5));
    const s = decodeSchedule(r.schedule);
    expect(s.steps).toBe(r.steps);
    expect(s.steps).toBeGreaterThan(0.95 * cpu.steps300);
    expect(s.marks.length).toBe(1023);
  });
});

describe('adversaries against a replay', () => {
  const rng = new Rng(6);
  const orig = report(owner('honest', quiet(cpu)), job(), classes, rng);
  const honestReplay = report(owner('honest', quiet(cpu), cpu.name, 'owner-3'), job({ replay: orig.schedule }), classes, rng);
  const sealedOrig: PublicRun = { ...publicOf(orig), digest: null, sealed: 'BOX' };

  it('a lazy runner copies the public score and, the digest being sealed, seals a made-up one', () => {
    const r = report(owner('lazy', cpu), job({ replay: orig.schedule, original: sealedOrig }), classes, rng);
    expect(r.bpb).toBe(orig.bpb);
    expect(r.trained).toBe(false);
    expect(digestOf(r)).not.toBeNull();
    expect(digestOf(r)).not.toBe(digestOf(honestReplay));
  });

  it('on a GPU class it adds the spread of honest replays to the copied score (an exact copy would betray it)', () => {
    const g = report(owner('honest', quiet(gpu)), job(), classes, rng);
    const xs = Array.from({ length: 100 }, () => report(owner('lazy', gpu), job({ replay: g.schedule, original: { ...publicOf(g), digest: null, sealed: 'BOX' } }), classes, rng).bpb - g.bpb);
    expect(xs.filter((x) => x === 0).length).toBe(0);
    expect(Math.max(...xs.map(Math.abs))).toBeLessThan(5 * gpu.sigmaReplay);
  });

  it('without a seal key the digest is public, and every replayer that never trains copies it (why it is sealed)', () => {
    for (const b of ['lazy', 'forger'] as const) {
      const r = report(owner(b, cpu), job({ replay: orig.schedule, original: publicOf(orig) }), classes, rng);
      expect('copy' in r.proof && r.proof.copy.digest).toBe(digestOf(orig));
    }
  });

  it('a forger, a Sybil for its partner and a colluder for its author copy the sealed box', () => {
    const cases: [Owner, JobView][] = [
      [owner('forger', cpu), job({ replay: orig.schedule, original: sealedOrig })],
      [{ ...owner('sybil', cpu), partner: 'owner-1' }, job({ replay: orig.schedule, original: sealedOrig })],
      [{ ...owner('colluder', cpu), partner: 'agent-1' }, job({ replay: orig.schedule, original: sealedOrig })],
    ];
    for (const [o, j] of cases) {
      const r = report(o, j, classes, rng);
      expect(r.bpb).toBe(orig.bpb);
      expect('copy' in r.proof && r.proof.copy.sealed).toBe('BOX');
    }
  });

  it('a Sybil replaying a stranger trains honestly', () => {
    const r = report({ ...owner('sybil', quiet(cpu)), partner: 'someone-else' }, job({ replay: orig.schedule, original: sealedOrig }), classes, rng);
    expect(digestOf(r)).toBe(digestOf(orig));
  });

  it("a class liar trains on its real machine: its digest is its real class's, never the claimed class's", () => {
    const liar = owner('class_liar', quiet(gpu), cpu.name);
    const r = report(liar, job({ replay: orig.schedule, original: sealedOrig }), classes, rng);
    expect(digestOf(r)).not.toBe(digestOf(orig));
    expect(r.trained).toBe(true);
    // and its own runs on the clock carry the GPU's step count and score
    const own = report(liar, job(), classes, rng);
    expect(own.steps).toBeGreaterThan(10 * cpu.steps300);
    expect(own.bpb).toBeLessThan(cpu.base - 0.5);
    expect(own.calibration.workload).toContain('wasm');
  });

  it('a saboteur keeps the honest digest and reports a worse score (passes a digest check, fails a score check)', () => {
    const r = report(owner('saboteur', quiet(cpu)), job({ replay: orig.schedule, original: sealedOrig }), classes, rng);
    expect(digestOf(r)).toBe(digestOf(orig));
    expect(r.bpb - orig.bpb).toBeGreaterThanOrEqual(0.1);
  });
});

describe("the simulated harness's sealed box", () => {
  it('opens with trainer/seal.ts open() under the App key, and is the same box for the same seed', () => {
    const keys = sealKeyPairFrom('the App private key');
    const text = JSON.stringify({ nonce: 'n1', digest: 'd'.repeat(64), val_bpb: 2.3 });
    const a = sealSeeded(new Rng(9), keys.publicKey, text);
    expect(open(keys, a)).toBe(text);
    expect(sealSeeded(new Rng(9), keys.publicKey, text)).toBe(a);
    expect(sealSeeded(new Rng(10), keys.publicKey, text)).not.toBe(a);
    expect(() => open(sealKeyPairFrom('another key'), a)).toThrow(/does not open/);
  });
});

describe('the opt-in adversaries: turncoat and framer', () => {
  it('are left out of the default mix (the figures of earlier sessions stay comparable) and in when weighted', () => {
    expect(adversaryKinds(4, {})).toEqual(['forger', 'lazy', 'saboteur', 'class_liar']);
    expect(adversaryKinds(4, { forger: 0, lazy: 0, saboteur: 0, class_liar: 0, sybil: 0, colluder: 0, framer: 1 })).toEqual(['framer', 'framer', 'framer', 'framer']);
    expect(adversaryKinds(2, { forger: 0, lazy: 0, saboteur: 0, class_liar: 0, sybil: 0, colluder: 0, turncoat: 1 })).toEqual(['turncoat', 'turncoat']);
  });

  it('a turncoat trains for its first 30 jobs, then makes its results up', () => {
    const rng = new Rng(7);
    const t = { ...owner('turncoat', quiet(cpu)), runs: 30 };
    expect(report(t, job(), classes, rng).trained).toBe(true);
    expect(report({ ...t, runs: 31 }, job(), classes, rng).trained).toBe(false);
  });

  it('the two accounts of a framer pair report the same wrong replay of another owner\'s run, and train their partner\'s', () => {
    const rng = new Rng(8);
    const orig = report(owner('honest', quiet(cpu), cpu.name, 'owner-1'), job(), classes, rng);
    const a = { ...owner('framer', quiet(cpu), cpu.name, 'framer-a'), partner: 'framer-b' };
    const b = { ...owner('framer', quiet(cpu), cpu.name, 'framer-b'), partner: 'framer-a' };
    const ra = report(a, job({ role: 'verify', replay: orig.schedule, original: publicOf(orig) }), classes, rng);
    const rb = report(b, job({ role: 'verify', replay: orig.schedule, original: publicOf(orig) }), classes, rng);
    expect(ra.trained).toBe(false);
    expect(ra.bpb - orig.bpb).toBeGreaterThanOrEqual(0.05);
    expect(ra.bpb - orig.bpb).toBeLessThanOrEqual(0.3);
    expect([rb.bpb, digestOf(rb)]).toEqual([ra.bpb, digestOf(ra)]);
    expect(digestOf(ra)).not.toBe(digestOf(orig));
    // another pair does not collude with this one: its made-up result differs
    const c = { ...owner('framer', quiet(cpu), cpu.name, 'framer-c'), partner: 'framer-d' };
    const rc = report(c, job({ role: 'verify', replay: orig.schedule, original: publicOf(orig) }), classes, rng);
    expect(rc.trained).toBe(false);
    expect(digestOf(rc)).not.toBe(digestOf(ra));
    // its partner's run, and its own candidates: trained honestly
    expect(report(b, job({ role: 'verify', replay: orig.schedule, original: publicOf(orig, 'n2', 'framer-a') }), classes, rng).trained).toBe(true);
    expect(report(a, job(), classes, rng).trained).toBe(true);
  });
});

describe('the opt-in shader (session 13)', () => {
  it('trains, and shades what it originates just inside the GPU replay tolerance: worse first and verify runs, better baseline runs; its replays are honest', () => {
    expect(adversaryKinds(2, { forger: 0, lazy: 0, saboteur: 0, class_liar: 0, sybil: 0, colluder: 0, shader: 1 })).toEqual(['shader', 'shader']);
    const s = owner('shader', quiet(gpu));
    const h = owner('honest', quiet(gpu));
    // the same draws for both: an Rng of one seed each
    const pair = (j: JobView) => [report(s, j, classes, new Rng(9)), report(h, j, classes, new Rng(9))];
    for (const role of ['candidate', 'verify'] as const) {
      const [a, b] = pair(job({ role }));
      expect(a.trained).toBe(true);
      expect(a.bpb - b.bpb).toBeCloseTo(0.018, 9);
    }
    const [base, honestBase] = pair(job({ role: 'baseline', pr: null }));
    expect(base.bpb - honestBase.bpb).toBeCloseTo(-0.018, 9);
    const orig = report(h, job(), classes, new Rng(3));
    const [rep, honestRep] = pair(job({ role: 'verify', replay: orig.schedule, original: publicOf(orig) }));
    expect(rep.bpb).toBe(honestRep.bpb);
  });
});
