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

/** A frame whose declared payload is over the reader's cap (refused before any of it is kept). */
export class PayloadTooLarge extends ProtocolError {
  constructor(
    readonly bytes: number,
    readonly cap: number,
  ) {
    super(`a frame payload of ${bytes} bytes where at most ${cap} were expected.`);
  }
}

/**
 * Incremental frame decoder. `maxPayload()` is asked for each frame's cap as its prefix
 * arrives (the supervisor's cap depends on what it expects next). Each frame's bytes are copied
 * into one buffer of its declared size as they arrive, and its payload is a view of that buffer:
 * a frame is held once, never gathered, joined and copied. After the first violation it keeps
 * the error and ignores all further bytes.
 */
export class FrameReader {
  private readonly prefix = Buffer.alloc(PREFIX);
  private prefixFilled = 0;
  private want: { header: number; payload: number } | null = null;
  private frame: Buffer | null = null;
  private filled = 0;
  error: ProtocolError | null = null;

  constructor(
    private readonly onFrame: (f: Frame) => void,
    private readonly maxPayload: () => number,
  ) {}

  push(chunk: Buffer): void {
    if (this.error) return;
    try {
      this.feed(chunk);
    } catch (e) {
      this.fail(e instanceof ProtocolError ? e : new ProtocolError(`the frame handler failed: ${(e as Error).message}`));
    }
  }

  /** The declared payload of a frame whose prefix arrived and whose bytes are still coming. */
  get incoming(): number | null {
    return this.want ? this.want.payload : null;
  }

  private fail(error: ProtocolError): void {
    this.error = error;
    this.frame = null;
    this.want = null;
  }

  private feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.error) {
      if (this.frame && this.want) {
        const n = chunk.copy(this.frame, this.filled, at, at + Math.min(this.frame.length - this.filled, chunk.length - at));
        this.filled += n;
        at += n;
        if (this.filled === this.frame.length) this.deliver(this.frame, this.want.header);
        continue;
      }
      const n = chunk.copy(this.prefix, this.prefixFilled, at, at + Math.min(PREFIX - this.prefixFilled, chunk.length - at));
      this.prefixFilled += n;
      at += n;
      if (this.prefixFilled < PREFIX) return;
      this.prefixFilled = 0;
      const header = this.prefix.readUInt32LE(0);
      const payload = this.prefix.readUInt32LE(4);
      if (header < 2 || header > MAX_HEADER_BYTES) throw new ProtocolError(`a frame header of ${header} bytes (at most ${MAX_HEADER_BYTES}): the channel carried bytes that are not a harness frame.`);
      const cap = this.maxPayload();
      if (payload > cap) throw new PayloadTooLarge(payload, cap);
      this.want = { header, payload };
      // its own memory, not a slab of the pool (a kept payload pins nothing else), the payload
      // at a multiple of 4 bytes (float32 views of it need no copy)
      const pad = (4 - (header % 4)) % 4;
      this.frame = Buffer.allocUnsafeSlow(pad + header + payload).subarray(pad);
      this.filled = 0;
    }
  }

  private deliver(bytes: Buffer, headerBytes: number): void {
    this.frame = null;
    this.want = null;
    let header: unknown;
    try {
      header = JSON.parse(bytes.subarray(0, headerBytes).toString('utf8'));
    } catch {
      throw new ProtocolError('a frame header that is not JSON: the channel carried bytes that are not a harness frame.');
    }
    if (!header || typeof header !== 'object' || typeof (header as { type?: unknown }).type !== 'string') {
      throw new ProtocolError('a frame header without a string "type".');
    }
    this.onFrame({ header: header as Frame['header'], payload: bytes.subarray(headerBytes) });
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
