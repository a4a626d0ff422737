// The plugin CLI surface: `wirewasm plugin check`, the --plugin options, and docs/plugins.md
// showing the examples exactly as they are built.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { artefact } from '../host/paths.js';
import { addPluginOptions, pluginSpecs, PluginOptionError } from '../host/plugins/index.js';
import { pluginWat, wat } from './plugins-fixtures.js';

const cli = artefact('dist/host/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('wirewasm plugin check', () => {
  it('accepts the examples and describes them', () => {
    const r = run('plugin', 'check', '--json', artefact('dist/plugins/moldudp64.wasm'), artefact('dist/plugins/moldudp64-c.wasm'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.map((o) => [o.name, o.ok, o.mode, o.burst])).toEqual([
      ['moldudp64', true, 'isolated', true],
      ['moldudp64-c', true, 'isolated', true],
    ]);
    expect(out[1].memoryPages).toEqual({ min: 6, max: 16 });
  });
  it('a refused plugin exits 1 with the reason on stderr', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wwplug-'));
    const bad = path.join(dir, 'wasi.wasm');
    writeFileSync(bad, await wat(pluginWat({ imports: '(import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))', onPacket: '(i32.const 0)' })));
    const r = run('plugin', 'check', artefact('dist/plugins/moldudp64.wasm'), bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('plugin wasi refused: forbidden import wasi_snapshot_preview1.proc_exit (function)');
    const missing = run('plugin', 'check', path.join(dir, 'nope.wasm'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/plugin nope refused: cannot read .*nope\.wasm/);
  });
});

describe('--plugin options', () => {
  const parse = (...argv: string[]) => {
    const cmd = addPluginOptions(new Command('replay').exitOverride().configureOutput({ writeErr: () => {} })).action(() => {});
    cmd.parse(argv, { from: 'user' });
    return pluginSpecs(cmd.opts());
  };
  it('are repeatable, with defaults from --plugin-policy/--plugin-copy and per-plugin keys', () => {
    expect(parse('--plugin', 'a.wasm', '--plugin', 'b.wasm,policy=open,copy=l4,port=26400,trusted,name=feed', '--plugin-policy', 'closed', '--plugin-copy', 'frame')).toEqual([
      { path: 'a.wasm', policy: 'closed', copy: 'frame' },
      { path: 'b.wasm', policy: 'open', copy: 'l4', route: { port: 26400 }, trusted: true, name: 'feed' },
    ]);
    expect(parse()).toEqual([]);
  });
  it('refuse what they cannot mean, naming it', () => {
    expect(() => parse('--plugin', 'a.wasm,port=70000')).toThrow(PluginOptionError);
    expect(() => parse('--plugin', 'a.wasm,port=70000')).toThrow(/port=70000: use a whole number from 0 to 65535/);
    expect(() => parse('--plugin', 'a.wasm,colour=red')).toThrow(/unknown key "colour"/);
    expect(() => parse('--plugin', 'a.wasm', '--plugin-policy', 'maybe')).toThrow(/Allowed choices are open, closed/);
  });
});

describe('docs/plugins.md', () => {
  it('shows the AssemblyScript and C examples exactly as they are built', () => {
    const doc = readFileSync(artefact('docs/plugins.md'), 'utf8');
    for (const f of ['examples/plugins/moldudp64.ts', 'examples/plugins/moldudp64.c']) expect(doc).toContain(readFileSync(artefact(f), 'utf8'));
  });
});
