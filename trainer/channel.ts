// The byte channel between the supervisor and a child: length-prefixed frames over the
// child's stdin (supervisor -> child) and stdout (child -> supervisor), pipes the supervisor
// opened. No file, no path: nothing a child could replace, link or read ahead in.
//
// A frame: u32le header length, u32le payload length, the header (UTF-8 JSON object with a
// string `type`), the payload bytes. Both lengths are capped by the reader before anything is
// buffered, so a child that writes garbage or a 600 MB "frame" is a protocol violation, not
// a crash or an out-of-memory in the supervisor.
import { writeSync } from 'node:fs';

export interface Frame {
  header: { type: string } & Record<string, unknown>;
  payload: Buffer;
}

export const MAX_HEADER_BYTES = 64 * 1024;
const PREFIX = 8;

export function encodeFrame(header: { type: string } & Record<string, unknown>, payload?: Uint8Array): Uint8Array[] {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const n = payload?.byteLength ?? 0;
  const prefix = Buffer.alloc(PREFIX);
  prefix.writeUInt32LE(h.length, 0);
  prefix.writeUInt32LE(n, 4);
  const parts: Uint8Array[] = [prefix, h];
  if (payload && n > 0) parts.push(Buffer.from(payload.buffer, payload.byteOffset, n));
  return parts;
}

export class ProtocolError extends Error {}

/**
 * Incremental frame decoder. `maxPayload()` is asked for each frame's cap as its prefix
 * arrives (the supervisor's cap depends on what it expects next). After the first violation
 * it keeps the error and ignores all further bytes.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private want: { header: number; payload: number } | null = null;
  error: ProtocolError | null = null;

  constructor(
    private readonly onFrame: (f: Frame) => void,
    private readonly maxPayload: () => number,
  ) {}

  push(chunk: Buffer): void {
    if (this.error) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.drain();
    } catch (e) {
      this.fail(e instanceof ProtocolError ? e.message : `the frame handler failed: ${(e as Error).message}`);
    }
  }

  /** The declared payload of a frame whose prefix arrived and whose bytes are still coming. */
  get incoming(): number | null {
    return this.want ? this.want.payload : null;
  }

  private fail(message: string): void {
    this.error = new ProtocolError(message);
    this.chunks = [];
    this.buffered = 0;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private drain(): void {
    for (;;) {
      if (this.error) return;
      if (!this.want) {
        if (this.buffered < PREFIX) return;
        const p = this.take(PREFIX);
        const header = p.readUInt32LE(0);
        const payload = p.readUInt32LE(4);
        if (header < 2 || header > MAX_HEADER_BYTES) throw new ProtocolError(`a frame header of ${header} bytes (at most ${MAX_HEADER_BYTES}): the channel carried bytes that are not a harness frame.`);
        const cap = this.maxPayload();
        if (payload > cap) throw new ProtocolError(`a frame payload of ${payload} bytes where at most ${cap} were expected.`);
        this.want = { header, payload };
      }
      const need = this.want.header + this.want.payload;
      if (this.buffered < need) return;
      const bytes = this.take(need);
      let header: unknown;
      try {
        header = JSON.parse(bytes.subarray(0, this.want.header).toString('utf8'));
      } catch {
        throw new ProtocolError('a frame header that is not JSON: the channel carried bytes that are not a harness frame.');
      }
      if (!header || typeof header !== 'object' || typeof (header as { type?: unknown }).type !== 'string') {
        throw new ProtocolError('a frame header without a string "type".');
      }
      // a copy: the frame may be kept while later chunks reuse nothing of it
      const payload = Buffer.from(bytes.subarray(this.want.header));
      this.want = null;
      this.onFrame({ header: header as Frame['header'], payload });
    }
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Write every byte to a file descriptor, waiting out EAGAIN on a non-blocking pipe. */
export function writeAllSync(fd: number, parts: Uint8Array[]): void {
  for (const buf of parts) {
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off, Math.min(buf.length - off, 1 << 20));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(sleepCell, 0, 0, 1);
      }
    }
  }
}
