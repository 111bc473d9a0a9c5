// The compiled kernels of matmul.wat for this engine: with relaxed SIMD's multiply-add where
// the engine has it (Node 22 and later; fused on CPUs with FMA), else the plain build (a
// multiply and an add; Node 20 keeps relaxed SIMD behind a flag). Every module of a process
// is of the same kind, so results do not depend on which thread or memory ran a product.
import { MATMUL_PLAIN_SHARED_WASM_BASE64, MATMUL_PLAIN_WASM_BASE64, MATMUL_SHARED_WASM_BASE64, MATMUL_WASM_BASE64 } from './matmul-wasm.js';

const bytes = (b64: string) => Buffer.from(b64, 'base64');

/** Whether this engine runs the relaxed-SIMD build. */
export const RELAXED_SIMD = WebAssembly.validate(bytes(MATMUL_WASM_BASE64));

const compiled = new Map<boolean, WebAssembly.Module>();

/** The kernels' module for an ordinary memory, or (shared) for the thread pool's shared one. */
export function matmulModule(shared: boolean): WebAssembly.Module {
  let m = compiled.get(shared);
  if (!m) {
    const b64 = RELAXED_SIMD ? (shared ? MATMUL_SHARED_WASM_BASE64 : MATMUL_WASM_BASE64) : shared ? MATMUL_PLAIN_SHARED_WASM_BASE64 : MATMUL_PLAIN_WASM_BASE64;
    m = new WebAssembly.Module(bytes(b64));
    compiled.set(shared, m);
  }
  return m;
}
