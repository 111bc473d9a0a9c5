// The supervisor's side of one child: spawns it through trainer/child.ts, decodes its frames
// with a cap on each payload, and turns every way a child can misbehave (garbage on the
// channel, a frame of the wrong type, silence past a deadline, a crash, a kill) into one
// RunFailure. Frames from the child are read only when the supervisor asks for the next one.
import { encodeFrame, FrameReader, PayloadTooLarge, type Frame } from './channel.js';
import { startChild, type ChildLaunch, type ChildOutcome, type RunningChild } from './child.js';
import type { FailureKind } from './result.js';
import { RunFailure } from './run-failure.js';
import type { FromChild, Hello, ToChild } from './worker-protocol.js';

/** What a child may say went wrong; anything else it claims is counted as its crash. */
const CHILD_KINDS: FailureKind[] = ['nan', 'crash', 'invalid_candidate', 'tamper'];

export class ChildChannel {
  private readonly child: RunningChild;
  private readonly reader: FrameReader;
  private readonly queue: Frame[] = [];
  private wake: (() => void) | null = null;
  private outcome: ChildOutcome | null = null;
  /** the largest payload the next frame may carry */
  cap = 0;
  /** the failure of a frame over `cap` where that has a name of its own (a checkpoint too big) */
  overCap: ((bytes: number) => { kind: FailureKind; message: string }) | null = null;
  readonly spawnedAt = performance.now();

  constructor(
    readonly phase: string,
    launch: Omit<ChildLaunch, 'onStdout'>,
  ) {
    this.reader = new FrameReader(
      (f) => {
        this.queue.push(f);
        this.wake?.();
      },
      () => this.cap,
    );
    this.child = startChild({
      ...launch,
      onStdout: (c) => {
        this.reader.push(c);
        const error = this.reader.error;
        if (error instanceof PayloadTooLarge && this.overCap) {
          const over = this.overCap(error.bytes);
          this.child.kill(over.kind, over.message);
          this.wake?.();
        } else if (error) {
          this.child.kill('tamper', `the ${phase} process wrote ${error.message} Only the harness writes to its channel (print with console.log, which goes to the log).`);
          this.wake?.();
        }
      },
    });
    void this.child.done.then((o) => {
      this.outcome = o;
      this.wake?.();
    });
  }

  get done(): Promise<ChildOutcome> {
    return this.child.done;
  }

  kill(kind: FailureKind, message: string): void {
    this.child.kill(kind, message);
  }

  /** Writes a frame; a child that stops reading its stdin is killed after 10 s plus the
   * frame's transfer at 50 MiB/s (the next `next()` then says why). */
  async send(header: ToChild, payload?: Uint8Array): Promise<void> {
    const stdin = this.child.stdin;
    const seconds = 10 + (payload?.byteLength ?? 0) / (50 * 2 ** 20);
    for (const part of encodeFrame(header as ToChild & Record<string, unknown>, payload)) {
      if (stdin.destroyed || !stdin.writable) return; // the child is gone; next() says why
      if (stdin.write(part)) continue;
      const drained = await new Promise<boolean>((r) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          stdin.off('drain', onDrain).off('close', onDrain);
          r(ok);
        };
        const onDrain = () => done(true);
        const timer = setTimeout(() => done(false), seconds * 1000);
        stdin.on('drain', onDrain).on('close', onDrain);
      });
      if (!drained) {
        this.kill('timeout', `the ${this.phase} process stopped reading what the harness sends it (${seconds.toFixed(0)}s).`);
        return;
      }
    }
  }

  /**
   * The next frame, of one of `types`, within `seconds`; else the child is killed and this
   * throws. `transfer(bytes)`: seconds added once, at the deadline, for a frame of that payload
   * that has begun to arrive (a big checkpoint in transit).
   */
  async next<T extends FromChild['type']>(types: T[], seconds: number, late: string, trusted = false, transfer?: (bytes: number) => number): Promise<{ header: Extract<FromChild, { type: T }>; payload: Buffer }> {
    let deadline = performance.now() + seconds * 1000;
    let extended = false;
    for (;;) {
      const f = this.queue.shift();
      if (f) {
        if (f.header.type === 'failed') throw this.claimedFailure(f.header as { kind?: unknown; message?: unknown }, trusted);
        if (!(types as string[]).includes(f.header.type)) {
          this.kill('tamper', `the ${this.phase} process sent a "${f.header.type.slice(0, 40)}" frame where the harness expected ${types.join(' or ')}.`);
          throw await this.failure();
        }
        return f as unknown as { header: Extract<FromChild, { type: T }>; payload: Buffer };
      }
      if (this.reader.error || this.outcome) throw await this.failure();
      let left = deadline - performance.now();
      if (left <= 0 && transfer && !extended && this.reader.incoming !== null) {
        extended = true;
        deadline += transfer(this.reader.incoming) * 1000;
        left = deadline - performance.now();
      }
      if (left <= 0) {
        this.kill('timeout', late);
        throw await this.failure();
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = null;
    }
  }

  /** A hello must be the first frame: harness code sends it before the candidate loads. */
  async hello(seconds: number): Promise<Hello> {
    this.cap = 0;
    return (await this.next(['hello'], seconds, `the ${this.phase} process did not load its backend within ${seconds}s.`, true)).header;
  }

  /** A `failed` frame: before the hello only harness code ran, so its kind stands; after it,
   * the candidate could have written it, and a harness_error (or timeout, oom) is its crash. */
  private claimedFailure(h: { kind?: unknown; message?: unknown }, trusted: boolean): RunFailure {
    const message = `${this.phase}: ${String(h.message ?? '').slice(0, 4000)}`;
    const kind = trusted && h.kind === 'harness_error' ? 'harness_error' : CHILD_KINDS.includes(h.kind as FailureKind) ? (h.kind as FailureKind) : 'crash';
    this.kill(kind, message);
    return new RunFailure(kind, message);
  }

  /** Why the child is gone (waits for it to be). */
  private async failure(): Promise<RunFailure> {
    const out = await this.child.done;
    if (out.killed) return new RunFailure(out.killed.kind, out.killed.message);
    const how = out.signal ? `was killed by ${out.signal}` : `exited with code ${out.code}`;
    // SIGKILL/137 that the supervisor did not send: the kernel's (or docker's) OOM killer
    const kind: FailureKind = out.signal === 'SIGKILL' || out.code === 137 ? 'oom' : 'crash';
    return new RunFailure(kind, `the ${this.phase} process ${how} without answering: ${out.stderrTail.slice(-5).join(' | ') || 'no output'}`);
  }
}
