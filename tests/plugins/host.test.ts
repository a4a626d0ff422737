// Parser plugins in one engine memory on the main thread: validation before instantiation, what an
// isolated plugin gets to see, routing, records, and every trap kind caught, counted and recovered.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../host/paths.js';
import { loadPlugin, PluginHost, PluginRefused, PluginStage, PluginSupervisor, type LoadedPlugin, type PluginSpec } from '../../host/plugins/index.js';
import type { PluginHostOptions } from '../../host/plugins/host.js';
import { itch, makeTraffic, macScannerWat, moldudp64, nonZeroWat, pluginWat, wat, type Frame } from '../support/plugins-fixtures.js';

const dist = (f: string) => path.join(packageRoot, 'dist', 'plugins', f);
const example = (f: string) => {
  if (!existsSync(dist(f))) throw new Error(`${dist(f)} is missing: run npm run build:plugins (the C example needs apt-get install clang lld)`);
  return new Uint8Array(readFileSync(dist(f)));
};

/** 24 datagrams: 1..3 ITCH messages each, distinct bytes per message. */
function marketData(n = 24): { frames: Frame[]; messages: Uint8Array[] } {
  const frames: Frame[] = [];
  const messages: Uint8Array[] = [];
  const types = ['A', 'E', 'X', 'D', 'P'];
  const sizes: Record<string, number> = { A: 36, E: 31, X: 23, D: 19, P: 44 };
  let seq = 1n;
  for (let i = 0; i < n; i++) {
    const ms = Array.from({ length: 1 + (i % 3) }, (_, k) => {
      const t = types[(i + k) % types.length];
      return itch(t, sizes[t], i * 7 + k);
    });
    messages.push(...ms);
    frames.push({ payload: moldudp64(seq, ms) });
    seq += BigInt(ms.length);
  }
  return { frames, messages };
}

function setup(specs: PluginSpec[], groups: Frame[][], hostOpts: Pick<PluginHostOptions, 'maxBurst' | 'onRecord'> = {}) {
  const t = makeTraffic(groups, 1);
  const plugins: LoadedPlugin[] = specs.map((s) => loadPlugin(s, { engineMaxPages: t.layout.maximumPages }));
  const sup = new PluginSupervisor(plugins, { workers: 1 });
  const host = new PluginHost({ memory: t.memory, engine: t.engine, ...sup.workerArgs(), worker: 0, scratch: t.scratch[0], ...hostOpts });
  const verdicts = (g = 0) => Array.from(new Uint8Array(t.memory.buffer, t.bursts[g].verdicts, t.bursts[g].count));
  const run = (g = 0) => host.processBurst(t.bursts[g].metaList, t.bursts[g].count, t.bursts[g].verdicts);
  return { t, plugins, sup, host, run, verdicts, stat: (name: string) => sup.stats().find((s) => s.name === name)! };
}

const refusal = async (src: string, opts: Partial<PluginSpec> = {}) => {
  try {
    loadPlugin({ name: 'fixture', bytes: await wat(src), ...opts }, { engineMaxPages: 100 });
  } catch (e) {
    expect(e).toBeInstanceOf(PluginRefused);
    return (e as Error).message;
  }
  throw new Error('the plugin was accepted');
};

const PASS = '(i32.const 0)';

describe('validation before instantiation', () => {
  it('accepts the AssemblyScript and C examples', () => {
    for (const f of ['moldudp64.wasm', 'moldudp64-c.wasm']) expect(loadPlugin({ bytes: example(f) }).hasBurst).toBe(true);
    expect(loadPlugin({ bytes: example('moldudp64-trusted.wasm'), trusted: true }, { engineMaxPages: 100 }).trusted).toBe(true);
  });
  it('refuses a forbidden import, naming its module and name', async () => {
    const msg = await refusal(pluginWat({ imports: '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))', onPacket: PASS }));
    expect(msg).toMatch(/forbidden import wasi_snapshot_preview1\.fd_write/);
  });
  it('refuses an allowed import with the wrong type', async () => {
    expect(await refusal(pluginWat({ imports: '(import "wirewasm" "now_ns" (func (result i32)))', onPacket: PASS }))).toMatch(/import wirewasm\.now_ns has type \(\) -> \(i32\); ABI v1 provides \(\) -> \(i64\)/);
  });
  it('refuses a missing export', async () => {
    expect(await refusal(pluginWat({}))).toMatch(/missing export "wirewasm_on_packet"/);
    expect(await refusal(pluginWat({ input: false, onPacket: PASS }))).toMatch(/missing export "wirewasm_input"/);
  });
  it('refuses a module without the ABI v1 marker', async () => {
    expect(await refusal(pluginWat({ marker: false, onPacket: PASS }))).toMatch(/missing export "wirewasm_abi_v1"/);
  });
  it('refuses a memory without a maximum, and one above the limit', async () => {
    expect(await refusal(pluginWat({ memory: '(memory (export "memory") 2)', onPacket: PASS }))).toMatch(/memory has no maximum/);
    expect(await refusal(pluginWat({ memory: '(memory (export "memory") 2 257)', onPacket: PASS }))).toMatch(/maximum is 257 pages .* above the limit of 256 pages/);
    expect(await refusal(pluginWat({ memory: '(memory (export "memory") 2 64)', onPacket: PASS }), { memoryLimit: 1 << 20 })).toMatch(/above the limit of 16 pages/);
  });
  it('refuses an isolated plugin that imports memory, and a trusted one with static data', async () => {
    expect(await refusal(pluginWat({ memory: '(import "env" "memory" (memory 1 100 shared))', onPacket: PASS }))).toMatch(/imports env\.memory: an isolated plugin/);
    const trusted = pluginWat({ memory: '(import "env" "memory" (memory 1 100 shared))', onPacket: PASS, extra: '(data (i32.const 0) "oops")' });
    expect(await refusal(trusted, { trusted: true })).toMatch(/1 data segment\(s\) would be written into the engine's memory/);
  });
  it('refuses a trusted plugin without the engine memory import, or with a smaller maximum', async () => {
    expect(await refusal(pluginWat({ onPacket: PASS }), { trusted: true })).toMatch(/a trusted plugin imports the engine's shared memory as env\.memory/);
    const small = pluginWat({ memory: '(import "env" "memory" (memory 1 50 shared))', onPacket: PASS });
    expect(await refusal(small, { trusted: true })).toMatch(/maximum of 50 pages, below the engine memory's 100/);
  });
  it('refuses an export with the wrong signature', async () => {
    expect(await refusal(pluginWat({ onPacket: PASS, extra: '(func (export "wirewasm_on_burst") (param i32) (result i32) (i32.const 0))' }))).toMatch(/"wirewasm_on_burst" has type \(i32\) -> \(i32\); ABI v1 wants \(i32, i32\) -> \(i32\)/);
  });
});

describe('examples parse MoldUDP64 into records', () => {
  const { frames, messages } = marketData();
  for (const [file, trusted] of [['moldudp64.wasm', false], ['moldudp64-c.wasm', false], ['moldudp64-trusted.wasm', true]] as const) {
    it(`${file}${trusted ? ' (trusted)' : ''}: one record per ITCH message, in order, with its packet's metadata`, () => {
      const { run, host, stat, t } = setup([{ name: 'mold', bytes: example(file), trusted }], [frames]);
      expect(run()).toBe(0);
      const recs = host.takeRecords();
      expect(recs.map((r) => Buffer.from(r.bytes).toString('hex'))).toEqual(messages.map((m) => Buffer.from(m).toString('hex')));
      expect(recs.map((r) => r.kind)).toEqual(messages.map((m) => m[0]));
      if (!trusted) {
        // Records are attributed to the packet whose bytes they came from.
        let k = 0;
        frames.forEach((f, i) => {
          const n = new DataView(f.payload.buffer).getUint16(18);
          for (let j = 0; j < n; j++, k++) {
            expect(recs[k].metadata?.packet).toBe(i);
            expect(recs[k].metadata?.timestampNs).toBe(new DataView(t.memory.buffer).getBigUint64(t.layout.metaAddress(i) + 16, true));
          }
        });
      }
      expect(host.counters.get('mold')?.get(0)).toBe(BigInt(messages.length));
      expect(stat('mold')).toMatchObject({ state: 'running', packets: frames.length, records: messages.length, traps: 0, errors: 0 });
    });
  }
  it('counts negative verdicts as errors: a truncated datagram', () => {
    const bad = moldudp64(1n, [itch('A', 36)]).slice(0, 30);
    const { run, stat } = setup([{ name: 'mold', bytes: example('moldudp64.wasm') }], [[...frames.slice(0, 3), { payload: bad }, { payload: new Uint8Array(5) }]]);
    expect(run()).toBe(0);
    expect(stat('mold')).toMatchObject({ packets: 5, errors: 2 });
  });
});

describe('records in place (onRecord)', () => {
  const { frames, messages } = marketData();
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  it('hands each record over as a view of the memory the plugin wrote it in, keeps none, counts them', () => {
    const seen: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const { run, host, stat } = setup([{ name: 'mold', bytes: example('moldudp64.wasm') }], [frames], {
      onRecord: (kind, bytes, at, len, plugin) => {
        seen.push(hex(bytes.subarray(at, at + len)));
        buffers.add(bytes.buffer);
        expect([kind, plugin]).toEqual([bytes[at], 0]);
      },
    });
    expect(run()).toBe(0);
    expect(seen).toEqual(messages.map(hex));
    // One memory for all of them: a copy per record would bring a buffer of its own each.
    expect(buffers.size).toBe(1);
    expect(host.takeRecords()).toEqual([]);
    expect(stat('mold')).toMatchObject({ records: messages.length, traps: 0 });
  });
  it('what onRecord throws comes out of processBurst once the burst is done; the plugin is not blamed', () => {
    const { run, stat } = setup([{ name: 'mold', bytes: example('moldudp64.wasm') }], [frames], {
      onRecord: () => {
        throw new Error('the reader broke');
      },
    });
    expect(() => run()).toThrow('the reader broke');
    expect(stat('mold')).toMatchObject({ state: 'running', traps: 0, packets: frames.length, records: messages.length });
    expect(() => run()).toThrow('the reader broke');
  });
});

describe('isolation: a plugin sees only the bytes copied for it', () => {
  const scanner = macScannerWat();
  const { frames } = marketData(8);
  for (const [copy, seen] of [['payload', false], ['l4', false], ['l3', false], ['frame', true]] as const) {
    it(`copy ${copy}: the Ethernet header ${seen ? 'is' : 'is not'} in its memory`, async () => {
      const { run } = setup([{ name: 'scan', bytes: await wat(scanner), copy }], [frames]);
      expect(run()).toBe(seen ? frames.length : 0);
    });
  }
  it('gets exactly the bytes from its layer, with offsets relative to them', async () => {
    const echo = pluginWat({ onPacket: `(call $emit (local.get $ptr) (local.get $len) (i32.const 1)) (call $emit (local.get $meta) (i32.const 64) (i32.const 2)) ${PASS}` });
    for (const [copy, start, l4, payload] of [['frame', 0, 34, 42], ['l3', 14, 20, 28], ['l4', 34, 0, 8], ['payload', 42, 0xffff, 0]] as const) {
      const { run, host, t } = setup([{ name: 'echo', bytes: await wat(echo), copy }], [frames]);
      run();
      const recs = host.takeRecords();
      expect(recs).toHaveLength(2 * frames.length);
      frames.forEach((_, i) => {
        expect(Buffer.from(recs[2 * i].bytes)).toEqual(Buffer.from(t.frameBytes(i).subarray(start)));
        const meta = new DataView(recs[2 * i + 1].bytes.buffer);
        expect([meta.getUint16(8, true), meta.getUint16(10, true), meta.getUint32(36, true)]).toEqual([l4, payload, t.frameBytes(i).length - start]);
        expect(meta.getUint32(0, true)).toBe(0x211);
      });
    }
  });
  it('sees zeros, not other packets\' or plugins\' bytes, in the padding after each packet', async () => {
    // The gather area is shared by every plugin of a worker: a frame-copy plugin fills it with whole
    // frames, then a payload-copy plugin's packets land at other offsets in the same area. Whatever
    // sits between the end of a packet and the next 8-byte boundary is copied into the plugin too,
    // so it must have been cleared. The checker drops any packet whose padding is not all zero.
    const paddingChecker = nonZeroWat('(i32.add (local.get $ptr) (local.get $len))', '(i32.and (i32.add (local.get $i) (i32.const 7)) (i32.const -8))');
    const { frames } = marketData(24);
    const unaligned = frames.filter((f) => f.payload.length % 8 !== 0).length;
    expect(unaligned).toBeGreaterThan(0); // otherwise there is no padding to check
    const { run, stat } = setup([
      { name: 'whole-frames', bytes: await wat(pluginWat({ onPacket: PASS })), copy: 'frame' },
      { name: 'padding', bytes: await wat(paddingChecker), copy: 'payload' },
    ], [frames]);
    for (let round = 0; round < 3; round++) expect(run()).toBe(0);
    expect(stat('padding').packets).toBe(3 * frames.length);
  });
  it('cannot reach past its own memory: a read outside it traps out-of-bounds', async () => {
    const { run, stat } = setup([{ name: 'oob', bytes: await wat(pluginWat({ onPacket: '(i32.load (i32.const 0x7ffffff0))' })), maxFailures: 100 }], [marketData(4).frames]);
    run();
    expect(stat('oob')).toMatchObject({ traps: 1, trapKinds: { 'out-of-bounds': 1 }, packets: 0, bypassed: 4 });
  });
});

describe('routing', () => {
  const count = pluginWat({ onPacket: `(call $emit (local.get $meta) (i32.const 64) (i32.const 0)) ${PASS}` });
  const frames: Frame[] = [
    { payload: new Uint8Array(24), dstPort: 5000 },
    { payload: new Uint8Array(24), srcPort: 5000, dstPort: 1 },
    { payload: new Uint8Array(24), dstPort: 5001, mark: 7 },
    { payload: new Uint8Array(24), dstPort: 6000, mark: 7 },
    { payload: new Uint8Array(24), dstPort: 6001 },
  ];
  it('by port (source or destination), by flow-rule mark, or every packet', async () => {
    const bytes = await wat(count);
    const { run, stat, host } = setup(
      [
        { name: 'port', bytes, route: { port: 5000 } },
        { name: 'mark', bytes, route: { mark: 7 } },
        { name: 'all', bytes },
      ],
      [frames],
    );
    run();
    expect([stat('port').packets, stat('mark').packets, stat('all').packets]).toEqual([2, 2, 5]);
    const marks = host.takeRecords().filter((r) => r.plugin === 'mark');
    expect(marks.map((r) => [r.metadata?.packet, new DataView(r.bytes.buffer).getUint32(52, true)])).toEqual([[2, 7], [3, 7]]);
  });
});

describe('failures cost one plugin, never the burst', () => {
  // Traps on a packet whose first payload byte is 0xEE; passes the others.
  const onMarker = (trap: string) => `(if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0xEE)) (then ${trap})) ${PASS}`;
  const traffic = (marker: number[]): Frame[] => Array.from({ length: 10 }, (_, i) => ({ payload: new Uint8Array([marker.includes(i) ? 0xee : 1, 2, 3, 4]) }));
  const kinds: [string, string, string][] = [
    ['unreachable', 'unreachable', ''],
    ['out-of-bounds', '(drop (i32.load (i32.const -8)))', ''],
    ['arithmetic', '(drop (i32.div_u (i32.const 1) (i32.sub (local.get $len) (local.get $len))))', ''],
    ['stack-overflow', '(drop (call $deep (i32.const 0)))', '(func $deep (param i32) (result i32) (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))'],
  ];
  for (const [kind, trap, extra] of kinds) {
    it(`${kind}: caught, counted by kind; the burst's other plugins and packets go on`, async () => {
      const { run, stat, verdicts } = setup(
        [
          { name: 'bad', bytes: await wat(pluginWat({ onPacket: onMarker(trap), extra })), policy: 'closed' },
          { name: 'good', bytes: await wat(pluginWat({ onPacket: PASS })) },
        ],
        [traffic([3])],
      );
      expect(run()).toBe(7); // fail-closed: the trapping packet and the 6 after it; 0..2 were passed
      expect(verdicts()).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
      expect(stat('bad')).toMatchObject({ state: 'restarting', traps: 1, packets: 3, bypassed: 7, trapKinds: { [kind]: 1 } });
      expect(stat('good')).toMatchObject({ state: 'running', packets: 10, traps: 0 });
    });
  }

  it('abort: AssemblyScript message decoded like @assemblyscript/loader', async () => {
    // "boom" as an AS string: byte length in the u32 before it, UTF-16LE.
    const src = pluginWat({
      imports: '(import "env" "abort" (func $abort (param i32 i32 i32 i32)))',
      onPacket: onMarker('(call $abort (i32.const 104) (i32.const 0) (i32.const 12) (i32.const 5))'),
      extra: '(data (i32.const 100) "\\08\\00\\00\\00b\\00o\\00o\\00m\\00")',
    });
    const { run, stat, host } = setup([{ name: 'ab', bytes: await wat(src) }], [traffic([0])]);
    expect(run()).toBe(0); // fail-open
    expect(stat('ab')).toMatchObject({ traps: 1, trapKinds: { abort: 1 } });
    expect(host.lastErrors().ab).toBe('abort: abort: boom at :12:5');
  });

  it('restarts from a fresh instance after an exponential back-off, then quarantines after K failures', async () => {
    // Counts packets in its memory: a fresh instance starts again from 0 (memory[0] is its state).
    const src = pluginWat({
      onPacket: `(i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (call $emit (i32.const 0) (i32.const 4) (i32.const 0)) ${onMarker('unreachable')}`,
    });
    const { run, stat, host } = setup([{ name: 'flaky', bytes: await wat(src), backoffMs: 40, maxFailures: 3, failureWindowMs: 60_000 }], [traffic([5])]);
    const seen = () => host.takeRecords().map((r) => new DataView(r.bytes.buffer).getUint32(0, true));
    run();
    expect(seen()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stat('flaky')).toMatchObject({ state: 'restarting', traps: 1, restarts: 0 });
    run(); // within the 40 ms back-off: bypassed
    expect(seen()).toEqual([]);
    expect(stat('flaky').bypassed).toBe(5 + 10);
    await new Promise((r) => setTimeout(r, 50));
    run(); // restarted: fresh memory, counts from 1 again
    expect(seen()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stat('flaky')).toMatchObject({ traps: 2, restarts: 1 });
    await new Promise((r) => setTimeout(r, 50));
    run(); // second back-off is 80 ms: still bypassed
    expect(seen()).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    run(); // third failure within the window: quarantined, and stays so
    expect(stat('flaky')).toMatchObject({ state: 'quarantined', traps: 3, restarts: 2 });
    await new Promise((r) => setTimeout(r, 400));
    run();
    expect(seen()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stat('flaky')).toMatchObject({ state: 'quarantined', traps: 3, restarts: 2, packets: 15, bypassed: 45 });
  });

  it('memory growth to its maximum: growth stops at the declared maximum, the failure is a trap', async () => {
    // Grows one page per packet; traps (unreachable) when memory.grow refuses.
    const src = pluginWat({ memory: '(memory (export "memory") 8 12)', onPacket: `(if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0)) (then unreachable)) ${PASS}` });
    const { run, stat, host } = setup([{ name: 'grow', bytes: await wat(src), maxFailures: 10 }], [traffic([])]);
    run();
    expect(stat('grow')).toMatchObject({ packets: 4, traps: 1, trapKinds: { unreachable: 1 }, bypassed: 6 });
    expect(host.lastErrors().grow).toMatch(/unreachable/);
  });

  it('a plugin whose wirewasm_init fails never runs; its packets get its policy', async () => {
    const src = pluginWat({ onPacket: PASS, extra: '(func (export "wirewasm_init") (result i32) (i32.const -3))' });
    const { run, stat } = setup([{ name: 'noinit', bytes: await wat(src), policy: 'closed', maxFailures: 1 }], [traffic([])]);
    expect(run()).toBe(10);
    expect(stat('noinit')).toMatchObject({ state: 'quarantined', packets: 0, drops: 10, bypassed: 10 });
  });
});

describe('burst batching', () => {
  it('calls wirewasm_on_burst once per burst when exported, and reads the verdict it wrote beside each packet', async () => {
    // Drops odd payload lengths; counts its calls at memory[0].
    const src = pluginWat({
      onPacket: 'unreachable',
      extra: `(func (export "wirewasm_on_burst") (param $n i32) (param $m i32) (result i32) (local $i i32)
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (call $emit (i32.const 0) (i32.const 4) (i32.const 0))
        (loop $l
          (i32.store offset=48 (local.get $m) (i32.and (i32.load offset=36 (local.get $m)) (i32.const 1)))
          (local.set $m (i32.load offset=44 (local.get $m)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $n))`,
    });
    const frames = Array.from({ length: 300 }, (_, i) => ({ payload: new Uint8Array(10 + i) }));
    const { run, stat, host, verdicts } = setup([{ name: 'b', bytes: await wat(src), inputBytes: 16384 }], [frames], { maxBurst: 256 });
    expect(run()).toBe(150);
    expect(verdicts()).toEqual(frames.map((_, i) => i & 1));
    // 300 packets: split at maxBurst 256, and each part in rounds of the 16 KiB input region.
    const calls = host.takeRecords().length;
    expect(calls).toBeGreaterThan(2);
    expect(calls).toBeLessThan(40);
    expect(stat('b')).toMatchObject({ packets: 300, drops: 150, traps: 0 });
  });
});

describe('trusted mode: no copy, pointers into the frames', () => {
  it('gets ptr = the frame address + the layer offset, and reads the frame in place', async () => {
    // Emits its metadata block; returns 1 (drop) when the first payload byte at ptr is 0x99.
    const src = pluginWat({
      memory: '(import "env" "memory" (memory 1 65536 shared))',
      onPacket: `(call $emit (local.get $meta) (i32.const 64) (i32.const 0)) (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0x99))`,
    });
    const frames: Frame[] = [{ payload: new Uint8Array([1, 2]) }, { payload: new Uint8Array([0x99, 2]) }, { payload: new Uint8Array([3]) }];
    const { run, host, t, verdicts } = setup([{ name: 'tr', bytes: await wat(src), trusted: true }], [frames]);
    expect(run()).toBe(1);
    expect(verdicts()).toEqual([0, 1, 0]);
    const ptrs = host.takeRecords().map((r) => new DataView(r.bytes.buffer).getUint32(40, true));
    expect(ptrs).toEqual(frames.map((_, i) => t.layout.frameAddress(i) + 42));
  });
});

describe('wirewasm_on_tick', () => {
  it('is called with the time on tick(), and a trap in it counts like any other', async () => {
    const src = pluginWat({
      onPacket: PASS,
      extra: `(func (export "wirewasm_on_tick") (param $now i64)
        (i64.store (i32.const 0) (local.get $now)) (call $emit (i32.const 0) (i32.const 8) (i32.const 9))
        (if (i64.eq (local.get $now) (i64.const 13)) (then unreachable)))`,
    });
    const { host, stat } = setup([{ name: 'tk', bytes: await wat(src) }], [marketData(2).frames]);
    host.tick(123456789n);
    const r = host.takeRecords();
    expect(r.map((x) => [x.kind, new DataView(x.bytes.buffer).getBigInt64(0, true)])).toEqual([[9, 123456789n]]);
    host.tick(13n);
    expect(stat('tk')).toMatchObject({ traps: 1, state: 'restarting' });
  });
});

describe('engine burst lists', () => {
  it('takes a list of frame indexes with the metadata base, as the engine workers hold them', () => {
    const { frames, messages } = marketData(12);
    const { t, host, stat } = setup([{ name: 'mold', bytes: example('moldudp64.wasm') }], [frames]);
    const { metaList, verdicts, count } = t.bursts[0];
    const list = new Uint32Array(t.memory.buffer, metaList, count);
    list.forEach((m, i) => (list[i] = (m - t.layout.meta.offset) / 64)); // frame i of the pool
    list.reverse(); // any order: a burst is whatever the rings hand out
    expect(host.processBurst(metaList, count, verdicts, t.layout.meta.offset)).toBe(0);
    const recs = host.takeRecords();
    expect(recs).toHaveLength(messages.length);
    expect(Buffer.from(recs[0].bytes)).toEqual(Buffer.from(itch('E', 31, 11 * 7))); // frame 11's first message
    expect(recs[0].metadata?.packet).toBe(0);
    expect(recs[0].metadata?.flowHash).toBe((0x9e3779b9 ^ 11) >>> 0);
    expect(stat('mold').packets).toBe(12);
  });
});

describe('a burst plugin that grows its memory mid-call', () => {
  it('still has its verdicts read from the grown memory', async () => {
    const src = pluginWat({
      onPacket: 'unreachable',
      extra: `(func (export "wirewasm_on_burst") (param $n i32) (param $m i32) (result i32) (local $i i32)
        (drop (memory.grow (i32.const 1)))
        (loop $l
          (i32.store offset=48 (local.get $m) (i32.const 1))
          (local.set $m (i32.load offset=44 (local.get $m)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $n))`,
    });
    const { run, stat, verdicts } = setup([{ name: 'g', bytes: await wat(src) }], [marketData(5).frames]);
    expect(run()).toBe(5);
    expect(run()).toBe(5);
    expect(verdicts()).toEqual([1, 1, 1, 1, 1]);
    expect(stat('g')).toMatchObject({ drops: 10, errors: 0, traps: 0 });
  });
});

describe('imports', () => {
  it('log hands UTF-8 lines to onLog; now_ns is wall-clock ns; counter_add sums per id', async () => {
    const src = pluginWat({
      imports: `(import "wirewasm" "log" (func $log (param i32 i32 i32)))
        (import "wirewasm" "now_ns" (func $now (result i64)))
        (import "wirewasm" "counter_add" (func $add (param i32 i64)))`,
      onPacket: `(call $log (i32.const 2) (i32.const 100) (i32.const 6))
        (i64.store (i32.const 200) (call $now)) (call $emit (i32.const 200) (i32.const 8) (i32.const 0))
        (call $add (i32.const 7) (i64.const 5)) (call $add (i32.const 8) (i64.const -1)) ${PASS}`,
      extra: '(data (i32.const 100) "h\\c3\\a9llo")',
    });
    const t = makeTraffic([marketData(3).frames], 1);
    const sup = new PluginSupervisor([loadPlugin({ name: 'io', bytes: await wat(src) })], { workers: 1 });
    const lines: string[] = [];
    const host = new PluginHost({ memory: t.memory, engine: t.engine, ...sup.workerArgs(), worker: 0, scratch: t.scratch[0], onLog: (p, level, msg) => lines.push(`${p}:${level}:${msg}`) });
    const before = BigInt(Date.now()) * 1_000_000n;
    host.processBurst(t.bursts[0].metaList, 3, t.bursts[0].verdicts);
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    expect(lines).toEqual(['io:2:héllo', 'io:2:héllo', 'io:2:héllo']);
    for (const r of host.takeRecords()) {
      const ns = new DataView(r.bytes.buffer).getBigInt64(0, true);
      expect(ns >= before - 1_000_000n && ns <= after).toBe(true);
    }
    expect([...host.counters.get('io')!]).toEqual([[7, 15n], [8, -3n]]);
    expect(sup.stats()[0].counters).toEqual({ 7: 15, 8: -3 });
  });
  it('counter_add: ids past the summing table, negative ids and 64-bit totals are exact too', async () => {
    const src = pluginWat({
      imports: '(import "wirewasm" "counter_add" (func $add (param i32 i64)))',
      onPacket: `(call $add (i32.const 4095) (i64.const 0x100000001)) (call $add (i32.const 4096) (i64.const 2))
        (call $add (i32.const -1) (i64.const -5)) (call $add (i32.const 3) (i64.const -9007199254740993)) ${PASS}`,
    });
    const t = makeTraffic([marketData(3).frames], 1);
    const sup = new PluginSupervisor([loadPlugin({ name: 'c', bytes: await wat(src) })], { workers: 1 });
    const host = new PluginHost({ memory: t.memory, engine: t.engine, ...sup.workerArgs(), worker: 0, scratch: t.scratch[0] });
    host.processBurst(t.bursts[0].metaList, 3, t.bursts[0].verdicts);
    const c = host.counters.get('c')!;
    expect([...c]).toEqual([[4095, 3n * 0x100000001n], [3, -3n * 9007199254740993n], [4096, 6n], [-1, -15n]]);
    expect([c.get(4095), c.get(4096), c.get(-1), c.get(3), c.get(7)]).toEqual([3n * 0x100000001n, 6n, -15n, -3n * 9007199254740993n, undefined]);
    expect(sup.stats()[0].counters).toMatchObject({ 3: Number(-3n * 9007199254740993n) });
  });
});

describe('PluginStage: the engine worker hook', () => {
  it('takes dropped frames out of the burst list in order, releases and counts them, and posts the records', async () => {
    const { MessageChannel, receiveMessageOnPort } = await import('node:worker_threads');
    // Drops packets whose first payload byte is odd; emits that byte.
    const src = pluginWat({ onPacket: `(call $emit (local.get $ptr) (i32.const 1) (i32.const 3)) (i32.and (i32.load8_u (local.get $ptr)) (i32.const 1))` });
    const frames: Frame[] = [2, 3, 4, 5, 7, 8].map((b) => ({ payload: new Uint8Array([b, 0]) }));
    const t = makeTraffic([frames], 1);
    const sup = new PluginSupervisor([loadPlugin({ name: 'odd', bytes: await wat(src) })], { workers: 1 });
    const { port1, port2 } = new MessageChannel();
    const released: number[] = [];
    const counter = t.progress; // a u64 the test owns
    const stage = new PluginStage({
      memory: t.memory,
      engine: t.engine,
      worker: 0,
      args: { ...sup.workerArgs(), scratch: t.scratch[0], maxBurst: 32 },
      release: (f) => released.push(f),
      dropCounter: counter,
      metaBase: t.layout.meta.offset,
      port: port1,
    });
    const list = new Uint32Array(t.memory.buffer, t.bursts[0].metaList, 6);
    list.set([0, 1, 2, 3, 4, 5]); // frame indexes
    expect(stage.run(t.bursts[0].metaList, 6)).toBe(3);
    expect([...list.subarray(0, 3)]).toEqual([0, 2, 5]);
    expect(released).toEqual([1, 3, 4]);
    expect(new BigUint64Array(t.memory.buffer, counter, 1)[0]).toBe(3n);
    const msg = receiveMessageOnPort(port2)?.message as { type: string; records: { kind: number; bytes: Uint8Array }[] };
    expect(msg.type).toBe('plugin-records');
    expect(msg.records.map((r) => [r.kind, r.bytes[0]])).toEqual([[3, 2], [3, 3], [3, 4], [3, 5], [3, 7], [3, 8]]);
    port1.close();
  });
});

describe('several plugins on one burst', () => {
  it('a packet two plugins drop counts once; records name their packet also past maxBurst and in trusted mode', async () => {
    const dropAll = await wat(pluginWat({ onPacket: '(i32.const 1)' }));
    const emitTrusted = await wat(
      pluginWat({
        memory: '(import "env" "memory" (memory 1 65536 shared))',
        onPacket: 'unreachable',
        extra: `(func (export "wirewasm_on_burst") (param $n i32) (param $m i32) (result i32) (local $i i32)
          (loop $l
            (call $emit (i32.load offset=40 (local.get $m)) (i32.const 2) (i32.const 0))
            (local.set $m (i32.load offset=44 (local.get $m)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
          (i32.const 0))`,
      }),
    );
    const frames = marketData(40).frames;
    const { run, host, stat } = setup(
      [
        { name: 'a', bytes: dropAll },
        { name: 'b', bytes: dropAll },
        { name: 't', bytes: emitTrusted, trusted: true },
      ],
      [frames],
      { maxBurst: 16 },
    );
    expect(run()).toBe(40);
    expect(stat('a').drops + stat('b').drops).toBe(80);
    expect(host.takeRecords().map((r) => r.metadata?.packet)).toEqual(frames.map((_, i) => i));
  });
});
