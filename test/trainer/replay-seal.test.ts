import { describe, expect, it } from '@jest/globals';
import { decodeSchedule, encodeSchedule, linearSchedule, QUANTUM, quantize, ScheduleRecorder, ScheduleReplayer } from '../../trainer/replay-schedule.js';
import { open, seal, sealKeyPairFrom } from '../../trainer/seal.js';

describe('replay schedule', () => {
  it('replays the progress a run recorded, step for step, from its encoding', () => {
    const r = new ScheduleRecorder();
    const seen: number[] = [];
    // an uneven pace: fast, a stall, slow, fast again
    let t = 0;
    for (let i = 0; i < 5000; i++) {
      t += i === 1200 ? 0.07 : i < 2500 ? 0.00005 : 0.0004;
      seen.push(r.progress(i, t));
    }
    const text = encodeSchedule(r.schedule());
    expect(text.length).toBeLessThan(3000);
    const s = decodeSchedule(text);
    expect(s.steps).toBe(5000);
    const p = new ScheduleReplayer(s);
    for (let i = 0; i < 5000; i++) expect(p.progress(i)).toBe(seen[i]);
    // progress is quantized and never decreases
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(seen.every((v) => Number.isInteger(v * QUANTUM))).toBe(true);
  });

  it('a step budget is a linear schedule', () => {
    const s = linearSchedule(300);
    const p = new ScheduleReplayer(decodeSchedule(encodeSchedule(s)));
    expect(p.progress(0)).toBe(0);
    expect(p.progress(150)).toBe(quantize(0.5));
    expect(p.progress(299)).toBe(quantize(299 / 300));
  });

  it('refuses malformed or oversized schedules with one error naming the problem', () => {
    expect(() => decodeSchedule('v2.10.AA')).toThrow(/starting with v1/);
    expect(() => decodeSchedule('v1.x.AA')).toThrow(/step count/);
    expect(() => decodeSchedule('v1.0.')).toThrow(/step count must be/);
    expect(() => decodeSchedule('v1.10.' + Buffer.from([20]).toString('base64url'))).toThrow(/past the last step/);
    expect(() => decodeSchedule('v1.10.' + Buffer.from([0x80]).toString('base64url'))).toThrow(/cut short/);
    expect(() => decodeSchedule('v1.100000.' + Buffer.alloc(QUANTUM + 1).toString('base64url'))).toThrow(/more than 1024 marks/);
    expect(() => decodeSchedule('v1.10.a+b')).toThrow(/base64url/);
  });
});

describe('seal', () => {
  const app = sealKeyPairFrom('-----BEGIN RSA PRIVATE KEY-----\nnot a real key\n-----END RSA PRIVATE KEY-----\n');

  it('the App opens what the harness sealed to its public key; the key pair is the same after a restart', () => {
    const plain = '{"nonce":"n1","digest":"' + 'ab'.repeat(32) + '"}';
    const box = seal(app.publicKey, plain);
    expect(open(sealKeyPairFrom('-----BEGIN RSA PRIVATE KEY-----\nnot a real key\n-----END RSA PRIVATE KEY-----\n'), box)).toBe(plain);
    // The digest travels encrypted: neither the text nor its bytes appear in the box. (A check for a
    // two-letter string failed by chance in about 3% of runs: random base64 contains "ab" that often.)
    expect(box).not.toContain('ab'.repeat(32));
    expect(Buffer.from(box, 'base64').includes(Buffer.from(plain))).toBe(false);
    expect(Buffer.from(box, 'base64').includes(Buffer.from('ab'.repeat(8)))).toBe(false);
  });

  it('a box sealed to another key, or altered, does not open', () => {
    const other = sealKeyPairFrom('another secret');
    expect(() => open(app, seal(other.publicKey, 'x'))).toThrow(/does not open/);
    const box = Buffer.from(seal(app.publicKey, 'hello'), 'base64');
    box[box.length - 1] ^= 1;
    expect(() => open(app, box.toString('base64'))).toThrow(/does not open/);
    expect(() => open(app, 'short')).toThrow(/at least 60 bytes/);
    expect(() => seal('not a key', 'x')).toThrow(/raw X25519 public key/);
  });
});
