// Builds the example parser plugins (examples/plugins/) into dist/plugins/: the AssemblyScript one
// isolated and trusted, the C one with Debian's clang --target=wasm32 and wasm-ld when they are
// installed (apt-get install clang lld); without them it says so and builds the rest.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { asc } from './asc.mjs';

const src = 'examples/plugins';
mkdirSync('dist/plugins', { recursive: true });

const built = [];
for (const [file, target, out] of [
  ['moldudp64', 'isolated', 'moldudp64'],
  ['moldudp64', 'trusted', 'moldudp64-trusted'],
  ['moldcount', 'isolated', 'moldcount'],
  ['moldcount', 'trusted', 'moldcount-trusted'],
]) {
  asc([`${src}/${file}.ts`, '--config', `${src}/asconfig.json`, '--target', target, '-o', `dist/plugins/${out}.wasm`]);
  built.push(out);
}

const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
if (has('clang') && has('wasm-ld')) {
  const exports = ['wirewasm_abi_v1', 'wirewasm_input', 'wirewasm_on_packet', 'wirewasm_on_burst'].map((e) => `-Wl,--export=${e}`);
  execFileSync('clang', [
    '--target=wasm32', '-O2', '-nostdlib', '-fno-builtin', '-Wl,--no-entry', ...exports,
    '-Wl,--initial-memory=393216', '-Wl,--max-memory=1048576', '-Wl,-z,stack-size=16384',
    '-o', 'dist/plugins/moldudp64-c.wasm', `${src}/moldudp64.c`,
  ], { stdio: 'inherit' });
  built.push('moldudp64-c');
} else {
  console.warn('plugins: clang or wasm-ld not found, skipping the C example (apt-get install clang lld)');
}
console.log('plugins: built', built.join(', '));
