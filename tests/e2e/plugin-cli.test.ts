// The plugin CLI surface: `wirewasm plugin check`, the --plugin options, and docs/plugins.md
// showing the examples exactly as they are built.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { artefact } from '../../host/paths.js';
import { addPluginOptions, pluginSpecs, PluginOptionError } from '../../host/plugins/index.js';
import { buildFrame } from '../../host/gen/frames.js';
import { writePcap } from '../../host/pcap/index.js';
import { itch, moldudp64, pluginWat, wat } from '../support/plugins-fixtures.js';

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
  it('warns when an instance cannot hold the input region the host asks for, and only then', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wwplug-'));
    const small = path.join(dir, 'small.wasm');
    const roomy = path.join(dir, 'roomy.wasm');
    // wirewasm_input returns 4096; the host asks for 256 KiB: 2 pages cannot hold it, 8 can.
    writeFileSync(small, await wat(pluginWat({ memory: '(memory (export "memory") 2 16)', onPacket: '(i32.const 0)' })));
    writeFileSync(roomy, await wat(pluginWat({ memory: '(memory (export "memory") 8 16)', onPacket: '(i32.const 0)' })));
    const r = run('plugin', 'check', '--json', small, roomy);
    expect(r.status).toBe(0);
    const [s, ok] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(s.warnings).toEqual([expect.stringContaining('small: wirewasm_input(262144) returned 4096, not an 8-byte aligned region of 262144 bytes inside its 131072 bytes (2 pages) memory')]);
    expect(ok.warnings).toEqual([]);
    expect(r.stderr).toMatch(/^wirewasm: warning: small: .*larger initial memory/m);
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

describe('wirewasm replay --plugin', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wwplug-'));
  // 300 MoldUDP64 datagrams to port 26400 and 30 datagrams to port 7777, as a pcap file.
  const frames = Array.from({ length: 330 }, (_, i) => {
    const payload = i % 11 === 5 ? new Uint8Array([9, 9, 9, 9]) : moldudp64(BigInt(i), [itch('A', 36, i), itch('X', 23, i)]);
    const f = buildFrame({ src: '10.0.0.1', dst: '10.1.0.1', sport: 40000 + (i % 7), dport: i % 11 === 5 ? 7777 : 26400, length: 42 + payload.length });
    f.set(payload, 42);
    return { linktype: 1, timestampNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, data: f, wireLength: f.length };
  });
  const pcap = path.join(dir, 'mold.pcap');
  writeFileSync(pcap, writePcap(frames, { linktype: 1 }));

  it('runs the plugins and reports them in --json stats', async () => {
    const dropper = path.join(dir, 'dropper.wasm');
    writeFileSync(dropper, await wat(pluginWat({ onPacket: '(i32.const 1)' })));
    const r = run('replay', pcap, '--workers', '2', '-q', '--json', '--plugin', `${artefact('dist/plugins/moldudp64-c.wasm')},port=26400`, '--plugin', `${dropper},port=7777,name=drop7777`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout);
    expect(stats.rx_packets).toBe(330);
    expect(stats.dropped.plugin).toBe(30);
    expect(stats.delivered).toBe(300);
    expect(stats.plugins).toEqual([
      expect.objectContaining({ name: 'moldudp64-c', state: 'running', packets: 300, records: 600, traps: 0, timeouts: 0, restarts: 0, counters: { 0: 600 } }),
      expect.objectContaining({ name: 'drop7777', state: 'running', packets: 30, records: 0, drops: 30 }),
    ]);
  });

  it("a plugin that fails every instance: its last error's kind and cause in --json and on stderr", async () => {
    const small = path.join(dir, 'small.wasm');
    writeFileSync(small, await wat(pluginWat({ memory: '(memory (export "memory") 2 16)', onPacket: '(i32.const 0)' })));
    const r = run('replay', pcap, '-q', '--json', '--plugin', `${small},port=7777`);
    expect(r.status).toBe(0);
    const [p] = JSON.parse(r.stdout).plugins;
    expect(p.traps).toBeGreaterThan(0);
    expect(p.lastError).toEqual({ kind: 'other', message: 'wirewasm_input(262144) returned 4096: not an 8-byte aligned region of 262144 bytes inside its 131072-byte memory' });
    expect(r.stderr).toContain('wirewasm: plugin small: last error (other): wirewasm_input(262144) returned 4096');
    const ok = JSON.parse(run('replay', pcap, '-q', '--json', '--plugin', `${artefact('dist/plugins/moldudp64-c.wasm')},port=26400`).stdout);
    expect(ok.plugins[0].lastError).toBeNull();
  });

  it('a refused plugin: exit 1, the reason on stderr, nothing replayed', async () => {
    const noMax = path.join(dir, 'nomax.wasm');
    writeFileSync(noMax, await wat(pluginWat({ memory: '(memory (export "memory") 8)', onPacket: '(i32.const 0)' })));
    const r = run('replay', pcap, '-q', '--json', '--plugin', noMax);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('plugin nomax refused: its memory has no maximum');
  });
});
