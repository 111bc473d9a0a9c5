// How the supervisor and its children talk: frames (trainer/channel.ts) over the child's
// stdin and stdout, pipes the supervisor opened; works the same through `docker run -i` and
// any sandbox that passes stdio. No config file, no stop file, no work dir: nothing a child
// could replace or read ahead in.
//
// What a child says is trusted only before candidate code loads: the `hello` frame (backend,
// device, calibration) is written by harness code before the candidate is imported, and the
// supervisor accepts exactly one, first. Everything after that is candidate-controlled by
// nature (batch requests, the checkpoint, the logits) and the supervisor measures what it
// records (steps = batches it served, shapes = what it served, params = the checkpoint it
// received). Console output of the candidate goes to stderr, which is only ever a log.
import { Console } from 'node:console';
import type { BackendChoice } from './backend.js';
import { CandidateError } from './candidate-loader.js';
import { encodeFrame, FrameReader, MAX_HEADER_BYTES, writeAllSync, type Frame } from './channel.js';
import type { FailureKind } from './result.js';
import type { AdapterInfo } from './webgpu.js';

export interface TrainConfig {
  type: 'config';
  phase: 'train';
  candidate: string;
  seed: number;
  backend: BackendChoice;
  /** a software WebGPU adapter is accepted (local runs only) */
  allowSoftwareGpu?: boolean;
  budgetSeconds: number;
  warmupSteps: number;
}

export interface EvalConfig {
  type: 'config';
  phase: 'eval';
  candidate: string;
  seed: number;
  backend: BackendChoice;
  /** a software WebGPU adapter is accepted (local runs only) */
  allowSoftwareGpu?: boolean;
}

export interface Calibration {
  workload: string;
  gflops: number;
}

export interface Hello {
  type: 'hello';
  backend: string;
  choice: string;
  gpu: boolean;
  note: string;
  skipped: string[];
  kernels: string[];
  /** the WebGPU adapter, as it describes itself (webgpu only) */
  adapter?: AdapterInfo;
  /** threads the harness's kernels run on */
  threads?: number;
  calibration: Calibration;
}

export interface CheckpointEntry {
  name: string;
  shape: number[];
}

/** supervisor -> child frames, by type */
export type ToChild =
  | TrainConfig
  | EvalConfig
  // payload B*(T+1) bytes; progress: the fraction of the budget spent, quantized and recorded by
  // the supervisor (trainer/replay-schedule.ts), what trainStep gets for this batch
  | { type: 'batch'; B: number; T: number; progress: number }
  | { type: 'stop' }
  | { type: 'checkpoint'; entries: CheckpointEntry[] } // payload float32 blob
  | { type: 'rows'; n: number; T: number } // payload n*T bytes
  | { type: 'end' };

/** child -> supervisor frames, by type */
export type FromChild =
  | Hello
  | { type: 'next'; batchSize: number; contextLength: number; loss: number | null }
  | { type: 'checkpoint'; entries: CheckpointEntry[] } // payload float32 blob
  | { type: 'ready'; contextLength: number }
  | { type: 'logits'; n: number } // payload n*T*256 float32
  | { type: 'failed'; kind: FailureKind; message: string };

/** The most a supervisor frame to a child carries: a checkpoint. */
const MAX_TO_CHILD = 0xffffffff;

export interface ChildPort {
  send(header: FromChild, payload?: Uint8Array): void;
  /** the next frame from the supervisor; the process exits if the supervisor is gone */
  next(): Promise<Frame>;
  fail(kind: FailureKind, message: string): never;
  exit(code: number): never;
}

/**
 * A child's side of the channel, bound before any candidate code can replace process.exit,
 * stdout or stdin listeners. From here on console output and process.stdout go to stderr,
 * so an honest candidate's prints land in the log and never in the channel.
 */
export function childPort(): ChildPort {
  const exit: (code: number) => never = process.exit.bind(process);
  const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  process.stdout.write = toStderr;
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  const send = (header: FromChild, payload?: Uint8Array) => writeAllSync(1, encodeFrame(header as FromChild & Record<string, unknown>, payload));
  const queue: Frame[] = [];
  const waiting: ((f: Frame) => void)[] = [];
  const reader = new FrameReader(
    (f) => {
      const w = waiting.shift();
      if (w) w(f);
      else queue.push(f);
    },
    () => MAX_TO_CHILD,
  );
  const stdin = process.stdin;
  stdin.on('data', (c: Buffer) => reader.push(c));
  // the supervisor closed the channel or died: nobody will read what this process makes
  stdin.on('end', () => exit(1));
  stdin.on('error', () => exit(1));
  const next = () => new Promise<Frame>((resolve) => {
    const f = queue.shift();
    if (f) resolve(f);
    else waiting.push(resolve);
  });
  const fail = (kind: FailureKind, message: string): never => {
    try {
      send({ type: 'failed', kind, message: message.slice(0, MAX_HEADER_BYTES / 4) });
    } catch {
      // the supervisor is gone
    }
    return exit(1);
  };
  return { send, next, fail, exit };
}

/** Reads the next frame and checks its type. */
export async function expectFrame<T extends ToChild['type']>(port: ChildPort, type: T): Promise<{ header: Extract<ToChild, { type: T }>; payload: Buffer }> {
  const f = await port.next();
  if (f.header.type !== type) port.fail('harness_error', `expected a "${type}" frame from the supervisor, got "${f.header.type}".`);
  return f as unknown as { header: Extract<ToChild, { type: T }>; payload: Buffer };
}

/** Runs a child's main: any throw, uncaught error or rejection becomes one `failed` frame. */
export function runChild(main: () => Promise<void>, fail: (kind: FailureKind, message: string) => never): void {
  const text = (e: unknown) => (e as Error)?.stack ?? String(e);
  process.on('uncaughtException', (e) => fail('crash', `uncaught: ${text(e)}`));
  process.on('unhandledRejection', (e) => fail('crash', `unhandled rejection: ${text(e)}`));
  main().catch((e: unknown) => {
    if (e instanceof CandidateError) fail(e.kind, e.message);
    fail('crash', text(e));
  });
}
