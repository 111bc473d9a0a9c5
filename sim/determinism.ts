// Makes a simulated run replayable and puts it in virtual time: the App draws nonces and eval
// seeds from node:crypto (randomInt, randomBytes) and the ledger store jitters its retry with
// Math.random; in the simulator these draw from the run's seeded generator instead. `Date.now`
// reads the virtual clock, so every clock of the App (the runner route's hourly limit, the ledger
// store's trust window, token expiry) agrees with the simulated one. Node documents this way of
// replacing a builtin's export for ES modules too: assign on the CommonJS module object, then
// `syncBuiltinESMExports()` (node:module). `restore()` puts the real ones back.
//
// That reaches only code that reads the functions when it calls them: the App imports node:crypto's
// default export and calls `crypto.randomInt(...)`. A named import (`import { randomInt }`) is not
// enough: jest's ES module loader copies a builtin's exports into the importing module when it
// links it, so under jest the App drew real job ids and seeds and a seeded run was not
// reproducible (a spot-check draw hashes the job id). Likewise `new Date()` reads the system clock,
// not `Date.now`: the App and ledger write `new Date(Date.now())`. test/sim/determinism.test.ts
// checks both: two runs of one seed write the same ledger, byte for byte.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Rng } from './rng.js';

const require = createRequire(import.meta.url);

export function seedTheApp(rng: Rng, now: () => number): () => void {
  const crypto = require('node:crypto');
  const real = { randomInt: crypto.randomInt, randomBytes: crypto.randomBytes, random: Math.random, now: Date.now };
  Date.now = now;
  crypto.randomInt = (a: number, b?: number) => {
    const [lo, hi] = b === undefined ? [0, a] : [a, b];
    return lo + rng.int(hi - lo);
  };
  crypto.randomBytes = (n: number) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = rng.int(256);
    return out;
  };
  Math.random = () => rng.next();
  syncBuiltinESMExports();
  return () => {
    crypto.randomInt = real.randomInt;
    crypto.randomBytes = real.randomBytes;
    Math.random = real.random;
    Date.now = real.now;
    syncBuiltinESMExports();
  };
}
