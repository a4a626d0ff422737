// PluginHost with onRecord (records handed over in place, errors thrown by the call they were
// raised in) and what an isolated plugin finds past the bytes gathered for it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { loadPlugin, PluginHost, PluginSupervisor, type PluginHostOptions, type PluginSpec } from '../../host/plugins/index.js';
import { itch, makeTraffic, macScannerWat, moldudp64, nonZeroWat, pluginWat, wat, type Frame } from '../support/plugins-fixtures.js';

const example = (f: string) => {
  const p = path.join(packageRoot, 'dist', 'plugins', f);
  if (!existsSync(p)) throw new Error(`${p} is missing: run npm run build:plugins`);
  return new Uint8Array(readFileSync(p));
};

function setup(specs: PluginSpec[], frames: Frame[], onRecord?: PluginHostOptions['onRecord']) {
  const t = makeTraffic([frames], 1);
  const sup = new PluginSupervisor(specs.map((s) => loadPlugin(s, { engineMaxPages: t.layout.maximumPages })), { workers: 1 });
  const host = new PluginHost({ memory: t.memory, engine: t.engine, ...sup.workerArgs(), worker: 0, scratch: t.scratch[0], onRecord });
  const run = () => host.processBurst(t.bursts[0].metaList, t.bursts[0].count, t.bursts[0].verdicts);
  return { t, sup, host, run, stat: (name: string) => sup.stats().find((s) => s.name === name)! };
}

/** n MoldUDP64 datagrams of 1..3 ITCH messages each, and the messages in order. */
function market(n: number): { frames: Frame[]; messages: Uint8Array[] } {
  const frames: Frame[] = [];
  const messages: Uint8Array[] = [];
  let seq = 1n;
  for (let i = 0; i < n; i++) {
    const ms = Array.from({ length: 1 + (i % 3) }, (_, k) => itch('A', 36, i * 5 + k));
    messages.push(...ms);
    frames.push({ payload: moldudp64(seq, ms) });
    seq += BigInt(ms.length);
  }
  return { frames, messages };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('onRecord', () => {
  for (const trusted of [false, true]) {
    it(`${trusted ? 'trusted' : 'isolated'}: each record in place in the memory the plugin wrote it in, read during the call`, () => {
      const { frames, messages } = market(12);
      const got: string[] = [];
      const buffers = new Set<ArrayBufferLike>();
      const plugins: number[] = [];
      const { run, host, stat, t } = setup([{ name: 'mold', bytes: example(trusted ? 'moldudp64-trusted.wasm' : 'moldudp64.wasm'), trusted }], frames, (kind, bytes, at, len, plugin) => {
        expect(kind).toBe(bytes[at]); // the example's kind is the ITCH type
        got.push(hex(bytes.subarray(at, at + len)));
        buffers.add(bytes.buffer);
        plugins.push(plugin);
      });
      run();
      expect(got).toEqual(messages.map(hex));
      expect(plugins.every((p) => p === 0)).toBe(true);
      // In place: trusted records are read from the engine's memory, isolated ones from the plugin's own.
      expect(buffers.size).toBe(1);
      expect([...buffers][0] === t.memory.buffer).toBe(trusted);
      expect(host.takeRecords()).toEqual([]);
      expect(stat('mold')).toMatchObject({ records: messages.length, traps: 0 });
    });
  }

  it('an error it throws is thrown by processBurst once the burst is done, once, and the plugin is not blamed', () => {
    const { frames, messages } = market(12);
    let calls = 0;
    const boom = new Error('reader failed');
    const { run, stat } = setup([{ name: 'mold', bytes: example('moldudp64.wasm') }], frames, () => {
      if (calls++ === 1) throw boom;
    });
    expect(run).toThrow(boom);
    expect(calls).toBe(messages.length); // the rest of the burst was still handed over
    expect(stat('mold')).toMatchObject({ packets: frames.length, traps: 0, state: 'running' });
    expect(run()).toBe(0); // thrown once
    expect(calls).toBe(2 * messages.length);
  });

  it('an error it throws during tick() is thrown by that tick(), not by the next burst', async () => {
    const src = pluginWat({
      onPacket: '(i32.const 0)',
      extra: '(func (export "wirewasm_on_tick") (param $now i64) (i64.store (i32.const 0) (local.get $now)) (call $emit (i32.const 0) (i32.const 8) (i32.const 9)))',
    });
    const kinds: number[] = [];
    const boom = new Error('reader failed in tick');
    const { host, run, stat } = setup([{ name: 'tk', bytes: await wat(src) }], market(2).frames, (kind) => {
      kinds.push(kind);
      if (kind === 9) throw boom;
    });
    expect(() => host.tick(5n)).toThrow(boom);
    expect(kinds).toEqual([9]);
    expect(run()).toBe(0);
    expect(stat('tk')).toMatchObject({ packets: 2, traps: 0, state: 'running' });
  });
});

describe('isolation: nothing past the bytes gathered for the plugin', () => {
  // The gather area is shared by the worker's plugins: a frame-copy plugin of every packet fills it
  // with whole frames (each with SECRET_MAC in its Ethernet header), then a payload-copy plugin of
  // one port's packets gathers fewer bytes into the same area. Its memory must hold none of the
  // first plugin's bytes, and past its input it reads zeros.
  const scanner = macScannerWat();
  // Drops its packet when any of the 2000 bytes after it (8-byte aligned) is not zero.
  const zeros = nonZeroWat('(i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8))', '(i32.add (local.get $i) (i32.const 2000))');
  const frames: Frame[] = Array.from({ length: 24 }, (_, i) => ({ payload: new Uint8Array(60).fill(1 + i), dstPort: i === 0 ? 5000 : 26400 }));
  for (const [name, src] of [['scanner', scanner], ['zeros', zeros]] as const)
    it(`${name}: another route's bytes never reach an isolated plugin`, async () => {
      const { run, stat } = setup(
        [
          { name: 'whole-frames', bytes: await wat(pluginWat({ onPacket: '(i32.const 0)' })), copy: 'frame' },
          { name, bytes: await wat(src), copy: 'payload', route: { port: 5000 } },
        ],
        frames,
      );
      for (let round = 0; round < 3; round++) expect(run()).toBe(0);
      expect(stat(name)).toMatchObject({ packets: 3, drops: 0, traps: 0 });
    });
});
