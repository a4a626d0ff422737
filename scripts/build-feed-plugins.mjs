// Builds the market-data plugins shipped with the package (feed/) into dist/plugins/*.wasm,
// isolated ABI v1 modules (docs/plugins.md) with their own memory of at most 4 MiB.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const asc = path.join(path.dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
mkdirSync('dist/plugins', { recursive: true });
mkdirSync('dist/wasm', { recursive: true });

const plugins = [
  { entry: 'feed/itch/itch.ts', out: 'itch' },
  { entry: 'feed/soupbintcp-itch/soupbintcp-itch.ts', out: 'soupbintcp-itch' },
];
for (const { entry, out } of plugins) {
  execFileSync(process.execPath, [asc, entry, '--config', 'feed/asconfig.json', '--target', 'release', '-o', `dist/plugins/${out}.wasm`, '-t', `dist/plugins/${out}.wat`], { stdio: 'inherit' });
}
// The order book runs over the shared memory like the engine (asconfig.json: imported shared
// memory, stub runtime): its state lives in a region the host places.
execFileSync(process.execPath, [asc, 'feed/book/book.ts', '--config', 'asconfig.json', '--target', 'release', '-o', 'dist/wasm/book.wasm', '-t', 'dist/wasm/book.wat'], { stdio: 'inherit' });
console.log('plugins: built', plugins.map((p) => p.out).join(', '), '+ book');
