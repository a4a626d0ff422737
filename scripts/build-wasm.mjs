// Compiles the engine module, release and debug, into dist/wasm/ with the targets of asconfig.json
// (imported shared memory, stub runtime, no abort: docs/architecture.md, "One module, many
// instances"). node-gyp wipes build/, so WASM output stays out of it.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const asc = path.join(path.dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
mkdirSync('dist/wasm', { recursive: true });

const entries = [{ entry: 'assembly/engine.ts', out: 'engine' }];
for (const { entry, out } of entries) {
  for (const [target, suffix] of [['release', ''], ['debug', '.debug']]) {
    const file = `dist/wasm/${out}${suffix}`;
    execFileSync(process.execPath, [asc, entry, '--config', 'asconfig.json', '--target', target, '-o', `${file}.wasm`, '-t', `${file}.wat`], { stdio: 'inherit' });
  }
}
console.log('wasm: built', entries.map((e) => e.out).join(', '));
await import('./build-feed-plugins.mjs');
