// How the supervisor and its two children talk. It works the same through `docker run`
// (no IPC channel there): the supervisor writes `config.json` and, at the deadline, a `stop`
// file into the child's work dir; the child reports on stdout in lines starting with
// EVENT_PREFIX. Everything a child says is a claim: the score comes only from the logits.
import { existsSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BackendChoice } from './backend.js';
import type { AdapterInfo } from './webgpu.js';
import { CandidateError } from './candidate-loader.js';
import type { FailureKind } from './result.js';

export const EVENT_PREFIX = '@@harness ';
export const CONFIG_FILE = 'config.json';
export const STOP_FILE = 'stop';
/** written when every child is set up: the train child starts its steps (and the clock) */
export const START_FILE = 'start';
/** written after training: the eval child's EvalPlan; the eval child waits for it */
export const GO_FILE = 'go.json';
export const EVAL_INPUT_FILE = 'eval-input.bin';
export const LOGITS_FILE = 'logits.bin';

export interface TrainConfig {
  phase: 'train';
  candidate: string;
  seed: number;
  backend: BackendChoice;
  /** a software WebGPU adapter is accepted (local runs only) */
  allowSoftwareGpu?: boolean;
  trainData: string;
  budgetSeconds: number;
  warmupSteps: number;
  workDir: string;
}

export interface EvalConfig {
  phase: 'eval';
  candidate: string;
  seed: number;
  backend: BackendChoice;
  /** a software WebGPU adapter is accepted (local runs only) */
  allowSoftwareGpu?: boolean;
  workDir: string;
}

/** What the eval child learns only once training is over. */
export interface EvalPlan {
  contextLength: number;
  rows: number;
  batchRows: number;
}

export type ChildConfig = TrainConfig | EvalConfig;

export type ChildEvent =
  | { type: 'backend'; backend: string; choice: string; gpu: boolean; note: string; skipped: string[]; kernels: string[]; adapter?: AdapterInfo }
  | { type: 'ready'; contextLength: number; batchSize: number; params: number }
  | { type: 'step'; step: number; t: number; loss: number }
  | { type: 'stopped'; steps: number }
  | { type: 'eval_progress'; rows: number }
  | { type: 'eval_done'; rows: number }
  | { type: 'failed'; kind: FailureKind; message: string };

/** Written synchronously so that an event is out before a crash or a kill. */
export function emit(ev: ChildEvent, write: (s: string) => void): void {
  write(`${EVENT_PREFIX}${JSON.stringify(ev)}\n`);
}

export function parseEvent(line: string): ChildEvent | null {
  if (!line.startsWith(EVENT_PREFIX)) return null;
  try {
    const ev = JSON.parse(line.slice(EVENT_PREFIX.length)) as ChildEvent;
    return ev && typeof ev === 'object' && typeof ev.type === 'string' ? ev : null;
  } catch {
    return null;
  }
}

/** Waits for a file the supervisor creates (through docker bind mounts too), without spinning. */
export async function waitForFile(path: string, everyMs = 10): Promise<void> {
  while (!existsSync(path)) {
    // the supervisor removed the work dir: the run is over, nobody will write the file
    if (!existsSync(dirname(path))) process.exit(1);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A child's side of the channel, bound before any candidate code can replace process.exit or stdout. */
export function childChannel(): { send: (ev: ChildEvent) => void; fail: (kind: FailureKind, message: string) => never; exit: (code: number) => never } {
  const write = (s: string) => void writeSync(1, s);
  const exit: (code: number) => never = process.exit.bind(process);
  const send = (ev: ChildEvent) => emit(ev, write);
  const fail = (kind: FailureKind, message: string): never => {
    send({ type: 'failed', kind, message });
    return exit(1);
  };
  return { send, fail, exit };
}

/** Runs a child's main: any throw, uncaught error or rejection becomes one `failed` event. */
export function runChild(main: () => Promise<void>, fail: (kind: FailureKind, message: string) => never): void {
  const text = (e: unknown) => (e as Error)?.stack ?? String(e);
  process.on('uncaughtException', (e) => fail('crash', `uncaught: ${text(e)}`));
  process.on('unhandledRejection', (e) => fail('crash', `unhandled rejection: ${text(e)}`));
  main().catch((e: unknown) => {
    if (e instanceof CandidateError) fail(e.kind, e.message);
    fail('crash', text(e));
  });
}
