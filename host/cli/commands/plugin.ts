// `wirewasm plugin check PATH...`: validates parser plugins against ABI v1 exactly as replay and
// capture will before loading them, and shows what each exports, imports and may use.
import type { Command } from 'commander';
import { loadPlugin, PluginRefused } from '../../plugins/index.js';
import { readModuleShape } from '../../wasm-binary.js';
import { readFileSync } from 'node:fs';
import { table } from '../format.js';

/**
 * Instantiates an isolated plugin once, as a worker will (wirewasm_init, then wirewasm_input of the
 * input region's size), with imports that do nothing, and says what fails. A module whose memory
 * cannot hold the region passes validation, yet every instance of it would fail in the engine.
 */
export function trialWarnings(p: { name: string; module: WebAssembly.Module; trusted: boolean; inputBytes: number }): string[] {
  if (p.trusted) return [];
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const i of WebAssembly.Module.imports(p.module)) {
    if (i.kind !== 'function') return []; // only functions are imported by an isolated plugin; validation said the rest
    (imports[i.module] ??= {})[i.name] = i.module === 'env' && i.name === 'abort' ? () => { throw new Error('it called abort()'); } : () => 0;
  }
  const size = (n: number) => `${n} bytes (${(n / 65536).toFixed(n % 65536 ? 2 : 0)} pages)`;
  try {
    const e = new WebAssembly.Instance(p.module, imports).exports as { memory: WebAssembly.Memory; wirewasm_init?: () => number; wirewasm_input: (n: number) => number };
    if (e.wirewasm_init && e.wirewasm_init() !== 0) return [];
    const at = e.wirewasm_input(p.inputBytes) >>> 0;
    const have = e.memory.buffer.byteLength;
    if (at !== 0 && at % 8 === 0 && at + p.inputBytes <= have) return [];
    return [`${p.name}: wirewasm_input(${p.inputBytes}) returned ${at}, not an 8-byte aligned region of ${p.inputBytes} bytes inside its ${size(have)} memory: every instance would fail. ${grow(p.inputBytes)}`];
  } catch (err) {
    return [`${p.name}: a trial instance failed: ${(err as Error).message}. If that is in wirewasm_input(${p.inputBytes}), its memory cannot hold the input region the host asks for. ${grow(p.inputBytes)}`];
  }
}
const grow = (n: number) =>
  `Give the module a larger initial memory (clang: -Wl,--initial-memory=${(Math.ceil(n / 65536) + 1) * 65536}; AssemblyScript: --initialMemory ${Math.ceil(n / 65536) + 1}), let wirewasm_input grow it, or load it with a smaller inputBytes`;

export function register(program: Command): void {
  const plugin = program.command('plugin').description('parser plugins (docs/plugins.md)');
  plugin
    .command('check')
    .description('validate plugins against ABI v1; exits 1 with the reason when one is refused')
    .argument('<path...>', '.wasm files')
    .option('--trusted', 'check as trusted plugins (import the engine memory)')
    .option('--memory-limit <bytes>', 'largest memory an isolated plugin may declare', '16777216')
    .option('--json', 'one JSON object per plugin')
    .action((paths: string[], opts: { trusted?: boolean; memoryLimit: string; json?: boolean }) => {
      let refused = 0;
      for (const path of paths) {
        try {
          const p = loadPlugin({ path, trusted: opts.trusted, memoryLimit: Number(opts.memoryLimit) });
          const shape = readModuleShape(new Uint8Array(readFileSync(path)));
          const mem = shape.memories[0] ?? shape.imports.find((i) => i.kind === 'memory')?.memory;
          const warnings = trialWarnings(p);
          for (const w of warnings) process.stderr.write(`wirewasm: warning: ${w}\n`);
          const info = {
            name: p.name,
            ok: true,
            mode: p.trusted ? 'trusted' : 'isolated',
            burst: p.hasBurst,
            init: p.hasInit,
            tick: p.hasTick,
            imports: shape.imports.map((i) => `${i.module}.${i.name}`),
            memoryPages: mem ? { min: mem.min, max: mem.max } : null,
            inputBytes: p.trusted ? null : p.inputBytes,
            warnings,
          };
          if (opts.json) process.stdout.write(JSON.stringify(info) + '\n');
          else
            process.stdout.write(
              table([
                ['plugin', p.name],
                ['ABI', 'v1 (ok)'],
                ['mode', info.mode],
                ['calls', p.hasBurst ? 'wirewasm_on_burst per burst' : 'wirewasm_on_packet per packet'],
                ['imports', info.imports.join(', ') || '(none)'],
                ['memory', mem ? `${mem.min}..${mem.max ?? '?'} pages` : '(none)'],
              ]) + '\n',
            );
        } catch (e) {
          if (!(e instanceof PluginRefused)) throw e;
          refused++;
          if (opts.json) process.stdout.write(JSON.stringify({ name: e.plugin, ok: false, reason: e.reason }) + '\n');
          process.stderr.write(`wirewasm: ${e.message}\n`);
        }
      }
      if (refused) process.exitCode = 1;
    });
}
