// Builds the market-data plugins shipped with the package (plugins/) into dist/plugins/*.wasm:
// isolated ABI v1 modules (docs/plugins.md) with their own memory of at most 4 MiB.
import { mkdirSync } from 'node:fs';
import { asc } from './asc.mjs';

mkdirSync('dist/plugins', { recursive: true });

const plugins = [
  { entry: 'plugins/itch/itch.ts', out: 'itch' },
  { entry: 'plugins/soupbintcp-itch/soupbintcp-itch.ts', out: 'soupbintcp-itch' },
];
for (const { entry, out } of plugins) {
  asc([entry, '--config', 'plugins/asconfig.json', '--target', 'release', '-o', `dist/plugins/${out}.wasm`, '-t', `dist/plugins/${out}.wat`]);
}
console.log('plugins: built', plugins.map((p) => p.out).join(', '));
