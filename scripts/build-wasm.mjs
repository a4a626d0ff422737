// Compiles the engine module, release and debug, into dist/wasm/ with the targets of asconfig.json
// (imported shared memory, stub runtime, no abort: docs/architecture.md). node-gyp wipes build/, so WASM output
// stays out of it.
import { mkdirSync } from 'node:fs';
import { asc } from './asc.mjs';

mkdirSync('dist/wasm', { recursive: true });

const entries = [{ entry: 'assembly/index.ts', out: 'engine' }];
for (const { entry, out } of entries) {
  for (const [target, suffix] of [['release', ''], ['debug', '.debug']]) {
    const file = `dist/wasm/${out}${suffix}`;
    asc([entry, '--config', 'asconfig.json', '--target', target, '-o', `${file}.wasm`, '-t', `${file}.wat`]);
  }
}
console.log('wasm: built', entries.map((e) => e.out).join(', '));
await import('./build-feed-plugins.mjs');
