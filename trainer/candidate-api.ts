// The interface between the trusted harness and the candidate (`trainer/train.ts`).
// The harness owns this file; an experiment may not change it. Types only: the
// candidate receives the tfjs namespace from the harness, so the backend, the data and
// the clock stay on the harness's side.
import type * as tfc from '@tensorflow/tfjs-core';
import type { Fused } from './kernels/fused.js';

/** tfjs, plus `fused`: the harness's fused ops (see program.md and trainer/kernels/fused.ts). */
export type TF = typeof tfc & { readonly fused: Fused };

/** Where the candidate runs, so that one train.ts can size itself per machine (fixed by the
 * harness before the candidate loads; results still compare only within a hardware class). */
export interface DeviceInfo {
  /** the tfjs backend that runs: tensorflow | wasm | cpu (webgpu later) */
  readonly backend: string;
  /** whether that backend runs on a GPU */
  readonly gpu: boolean;
  /** the hardware class results are compared within, e.g. "gpu-h100-80gb", "cpu-amd-epyc" */
  readonly hardwareClass: string;
  /** memory the model may use, MiB: the GPU's on a GPU (8192 where the driver tells none: WebGPU on
   * AMD or Intel), else the process's (cgroup limit or RAM) */
  readonly memoryMb: number;
  /** threads the harness's kernels run on (1 where they are not used) */
  readonly threads: number;
}

/** What `train.ts` must export as `createModel(tf, seed, device)`. */
export interface Candidate {
  /** bytes of context per sequence (T); the harness feeds [B, T] int32 byte ids 0..255 */
  readonly contextLength: number;
  /** sequences per training step (B) */
  readonly batchSize: number;
  /** one optimisation step on inputs x [B, T] and next-byte targets y [B, T].
   * `progress` is the fraction of the training budget used so far, 0..1 (for schedules).
   * Returns the mean cross-entropy loss (nats) as a scalar the harness disposes. */
  trainStep(x: tfc.Tensor2D, y: tfc.Tensor2D, progress: number): tfc.Scalar;
  /** next-byte logits [N, T, 256] for inputs [N, T]; must be causal: position t may only
   * depend on bytes 0..t of its own row. The harness computes log-softmax and bpb. */
  logits(x: tfc.Tensor2D): tfc.Tensor3D;
  /** every tensor the trained model needs, by stable name, for checkpointing.
   * Evaluation calls createModel(tf, seed) again and assigns these back. */
  variables(): Record<string, tfc.Variable>;
}

export type CreateModel = (tf: TF, seed: number, device: DeviceInfo) => Candidate;
