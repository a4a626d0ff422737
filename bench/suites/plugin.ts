// `plugin`: per-packet cost of running a parser plugin on a burst, isolated (gather in the engine
// memory + one copy into the plugin + one call) and trusted (metadata blocks only, pointers into
// the frames), against the same parse run in-engine (one WASM call over the engine's metadata).
// The plugin is examples/plugins/moldcount.ts: MoldUDP64 framing checked, messages counted.
// Options: --runs N (default 7), --ms per run (default 300), --burst packets (default 64).
import { readFileSync } from 'node:fs';
import { artefact } from '../../host/paths.js';
import { loadPlugin, PluginHost, PluginSupervisor } from '../../host/plugins/index.js';
import { makeTraffic, moldudp64, type Frame } from '../../tests/support/plugins-fixtures.js';
import { argValue, summarize, type BenchResult, type Suite } from '../common.js';

/** A MoldUDP64 datagram of exactly `size` bytes: 42-byte messages, the remainder in a last one. */
function datagram(size: number, seq: number): Uint8Array {
  const msgs: Uint8Array[] = [];
  let left = size - 20;
  while (left >= 44 + 3 || left === 44) {
    msgs.push(new Uint8Array(42).fill(0x41));
    left -= 44;
  }
  if (left > 0) msgs.push(new Uint8Array(left - 2).fill(0x45));
  const d = moldudp64(BigInt(seq), msgs);
  if (d.length !== size) throw new Error(`datagram of ${d.length} bytes, wanted ${size}`);
  return d;
}

function measure(runs: number, ms: number, burst: number, body: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < 2000; i++) body(); // warm up: let V8 optimise the host path
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < 64; i++) body();
      n += 64;
      t = performance.now();
    }
    out.push((n * burst * 1000) / (t - t0)); // packets per second
  }
  return out;
}

const suite: Suite = async ({ argv, log }) => {
  const runs = argValue(argv, '--runs', 7);
  const ms = argValue(argv, '--ms', 300);
  const burst = argValue(argv, '--burst', 64);
  const wasm = (f: string) => new Uint8Array(readFileSync(artefact(`dist/plugins/${f}.wasm`)));
  const results: BenchResult[] = [];
  const row = (name: string, samples: number[], target?: number) => {
    const r = summarize(name, 'pkts/s', samples, { ns_per_pkt: 1e9 / [...samples].sort((a, b) => a - b)[samples.length >> 1], burst });
    if (target !== undefined) r.target_ns = target;
    results.push(r);
    log(`plugin: ${name}: ${(r.ns_per_pkt as number).toFixed(1)} ns/pkt`);
    return r;
  };
  for (const size of [64, 512]) {
    const frames: Frame[] = Array.from({ length: burst }, (_, i) => ({ payload: datagram(size, i) }));
    const t = makeTraffic([frames], 1, 1 << 20);
    const { metaList, verdicts, count } = t.bursts[0];
    // In-engine: the same parse, one WASM call over the engine's metadata records.
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm('moldcount-trusted')), {
      env: { memory: t.memory, abort: () => {} },
      wirewasm: {},
    }).exports as { engine_parse(metaList: number, count: number): number };
    const expected = frames.reduce((a, f) => a + new DataView(f.payload.buffer).getUint16(18), 0);
    if (inst.engine_parse(metaList, count) !== expected) throw new Error('in-engine parse disagrees with the frames');
    const reference = row(`wirewasm-inengine-${size}`, measure(runs, ms, count, () => inst.engine_parse(metaList, count)));
    for (const [mode, file, target] of [['isolated', 'moldcount', 30], ['trusted', 'moldcount-trusted', 10]] as const) {
      const plugin = loadPlugin({ name: mode, bytes: wasm(file), trusted: mode === 'trusted', inputBytes: 1 << 19 }, { engineMaxPages: t.layout.maximumPages });
      const sup = new PluginSupervisor([plugin], { workers: 1 });
      const host = new PluginHost({ memory: t.memory, engine: t.engine, ...sup.workerArgs(), worker: 0, scratch: t.scratch[0] });
      const samples = measure(runs, ms, count, () => host.processBurst(metaList, count, verdicts));
      const s = sup.stats()[0];
      if (s.traps || s.errors || s.state !== 'running') throw new Error(`bench plugin failed: ${JSON.stringify(s)}`);
      const r = row(`wirewasm-plugin-${mode}-${size}`, samples, size === 64 ? target : undefined);
      // What the plugin boundary costs over the same parse in-engine, measured in this run.
      r.overhead_ns = (r.ns_per_pkt as number) - (reference.ns_per_pkt as number);
    }
  }
  return results;
};
export default suite;
