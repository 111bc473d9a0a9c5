// Harness-side (trusted) setup of tfjs for training: gradients for every kernel, then faster
// kernels for the hot ops of the default model on backends where tfjs's own are slow.
// Candidates cannot register kernels; the harness calls this once after tf.setBackend().
import { registerAllGradients } from './gradients.js';

/** Registers gradients, and custom kernels for `backendName`; returns the kernels replaced. */
export async function registerKernels(backendName: string): Promise<string[]> {
  await registerAllGradients();
  void backendName;
  return [];
}
