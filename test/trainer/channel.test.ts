import { describe, expect, it } from '@jest/globals';
import { LineSplitter } from '../../trainer/bounded-lines.js';
import { encodeFrame, FrameReader, MAX_HEADER_BYTES, type Frame } from '../../trainer/channel.js';

const bytes = (parts: Uint8Array[]) => Buffer.concat(parts);

function reader(cap = 1 << 20) {
  const frames: Frame[] = [];
  const r = new FrameReader((f) => frames.push(f), () => cap);
  return { r, frames };
}

describe('frame channel', () => {
  it('decodes frames split anywhere, payload bytes intact', () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const all = bytes([...encodeFrame({ type: 'a', n: 1 }), ...encodeFrame({ type: 'b' }, payload), ...encodeFrame({ type: 'c' })]);
    for (const step of [1, 7, 64, all.length]) {
      const { r, frames } = reader();
      for (let i = 0; i < all.length; i += step) r.push(all.subarray(i, i + step));
      expect(r.error).toBeNull();
      expect(frames.map((f) => f.header)).toEqual([{ type: 'a', n: 1 }, { type: 'b' }, { type: 'c' }]);
      expect([...frames[1].payload]).toEqual([...payload]);
    }
  });

  it('refuses text, an oversized header and an oversized payload before buffering them', () => {
    const text = reader();
    text.r.push(Buffer.from('@@harness {"type":"ready","params":1000}\n'));
    expect(text.r.error?.message).toMatch(/frame header of \d+ bytes \(at most 65536\): the channel carried bytes that are not a harness frame/);
    expect(text.frames).toEqual([]);

    const huge = reader(10);
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32LE(20, 0);
    prefix.writeUInt32LE(600 * 2 ** 20, 4);
    huge.r.push(prefix);
    expect(huge.r.error?.message).toBe(`a frame payload of ${600 * 2 ** 20} bytes where at most 10 were expected.`);

    const big = reader();
    prefix.writeUInt32LE(MAX_HEADER_BYTES + 1, 0);
    prefix.writeUInt32LE(0, 4);
    big.r.push(prefix);
    expect(big.r.error).not.toBeNull();
  });

  it('refuses a header that is not a JSON object with a type, and ignores everything after', () => {
    const { r, frames } = reader();
    const h = Buffer.from('[1,2]');
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32LE(h.length, 0);
    r.push(Buffer.concat([prefix, h]));
    expect(r.error?.message).toMatch(/without a string "type"/);
    r.push(bytes(encodeFrame({ type: 'a' })));
    expect(frames).toEqual([]);
  });

  it('says how much of a frame is still coming', () => {
    const { r } = reader();
    const all = bytes(encodeFrame({ type: 'ckpt' }, new Uint8Array(5000)));
    r.push(all.subarray(0, 100));
    expect(r.incoming).toBe(5000);
    r.push(all.subarray(100));
    expect(r.incoming).toBeNull();
  });
});

describe('bounded lines', () => {
  it('cuts a long line, says how much it dropped, and holds no more than the cap', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 10);
    s.push(Buffer.from('short\nabcdefghij'));
    for (let i = 0; i < 1000; i++) s.push(Buffer.alloc(1 << 16, 'x'));
    s.push(Buffer.from('tail\nlast'));
    s.end();
    expect(lines).toEqual(['short', `abcdefghij [... line truncated: ${1000 * (1 << 16) + 4} more bytes]`, 'last']);
  });
});
