// Builds the market-data plugins shipped with the package (feed/) into dist/plugins/*.wasm,
// isolated ABI v1 modules (docs/plugins.md) with their own memory of at most 4 MiB.
import { mkdirSync } from 'node:fs';
import { asc } from './asc.mjs';

mkdirSync('dist/plugins', { recursive: true });
mkdirSync('dist/wasm', { recursive: true });

const plugins = [
  { entry: 'feed/itch/itch.ts', out: 'itch' },
  { entry: 'feed/soupbintcp-itch/soupbintcp-itch.ts', out: 'soupbintcp-itch' },
];
for (const { entry, out } of plugins) {
  asc([entry, '--config', 'feed/asconfig.json', '--target', 'release', '-o', `dist/plugins/${out}.wasm`, '-t', `dist/plugins/${out}.wat`]);
}
// The order book runs over the shared memory like the engine (asconfig.json: imported shared
// memory, stub runtime): its state lives in a region the host places.
asc(['feed/book/book.ts', '--config', 'asconfig.json', '--target', 'release', '-o', 'dist/wasm/book.wasm', '-t', 'dist/wasm/book.wat']);
console.log('plugins: built', plugins.map((p) => p.out).join(', '), '+ book');
