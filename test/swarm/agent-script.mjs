// A scripted external agent for the swarm test: reads program.md and the API as an agent
// would, then repairs a learning rate set 100x too low, or (once repaired) breaks it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
if (!readFileSync(process.env.SWARM_PROGRAM, 'utf8').includes('train.ts')) throw new Error('no program.md');
const index = `${process.env.SWARM_API_DIR}/index.json`;
const seen = existsSync(index) ? JSON.parse(readFileSync(index, 'utf8')).counts.experiments : 0;
const f = 'trainer/train.ts';
const src = readFileSync(f, 'utf8');
const low = /^const LR = 3e-5;/m.test(src);
writeFileSync(f, src.replace(/^const LR = [^;]+;/m, low ? 'const LR = 3e-3;' : 'const LR = 3e-7;'));
writeFileSync(process.env.SWARM_TITLE_FILE, low ? `LR 3e-5 -> 3e-3 (after ${seen} experiments)\n` : `LR 3e-3 -> 3e-7 (after ${seen} experiments)\n`);
