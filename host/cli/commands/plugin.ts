// `wirewasm plugin check PATH...`: validates parser plugins against ABI v1 exactly as replay and
// capture will before loading them, and shows what each exports, imports and may use.
import type { Command } from 'commander';
import { loadPlugin, PluginRefused } from '../../plugins/index.js';
import { readModuleShape } from '../../wasm-binary.js';
import { readFileSync } from 'node:fs';
import { table } from '../format.js';

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
          const info = {
            name: p.name,
            ok: true,
            mode: p.trusted ? 'trusted' : 'isolated',
            burst: p.hasBurst,
            init: p.hasInit,
            tick: p.hasTick,
            imports: shape.imports.map((i) => `${i.module}.${i.name}`),
            memoryPages: mem ? { min: mem.min, max: mem.max } : null,
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
