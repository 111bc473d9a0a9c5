// tfjs-core's Node entry (dist/tf-core.node.js) ships without the gradient functions of its
// kernels: they live only in its ESM sources (dist/register_all_gradients.js), which Node
// cannot load (extensionless imports). We bundle that entry once with esbuild and run it.
// The bundle carries its own copy of the ops the gradients call; they share the one global
// engine, kernel and gradient registries with the main copy, so gradients run on whatever
// backend is active. Harness-side and trusted: candidates receive `tf` with gradients ready.
// esbuild is present wherever the harness runs: tsx (a runtime dependency) depends on it.
import * as tf from '@tensorflow/tfjs-core';
import { build, stop } from 'esbuild';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let registered: Promise<void> | undefined;

/** Registers the gradients of every tfjs-core kernel. Idempotent; about 1 s the first time. */
export function registerAllGradients(): Promise<void> {
  registered ??= (async () => {
    // the registry is global: @tensorflow/tfjs (under tfjs-node) has registered them already
    if ((tf.getGradient(tf.Neg) as unknown) !== undefined) return;
    const out = await build({
      entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      write: false,
      logLevel: 'silent',
    });
    await stop(); // esbuild's service process would keep test runners and children alive
    const module = { exports: {} };
    new Function('module', 'exports', 'require', out.outputFiles[0].text)(module, module.exports, require);
  })();
  return registered;
}
