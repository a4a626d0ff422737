// The engine end to end: real worker threads over one shared memory, the WASM pipeline, real
// handler modules. Every test checks the frame invariant: received = delivered + counted drops,
// and every frame back in the pool after stop.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Engine, type EngineConfig, type EngineStats } from '../../host/engine/engine.js';
import { buildFrame, syntheticFrames } from '../../host/gen/frames.js';
import { parseFlowRule, FlowRuleError } from '../../host/engine/flow.js';
import { EngineConfigError } from '../../host/engine/config.js';
import { expectAccounted, runWithOneWorkerDeath } from '../support/delivery.js';

const fixture = (name: string) => new URL(`../support/fixtures/${name}`, import.meta.url).pathname;

async function run(config: EngineConfig, during?: (e: Engine) => Promise<void>) {
  const engine = new Engine(config);
  const values: number[] = [];
  await engine.start();
  const reading = (async () => {
    for await (const b of engine.records()) values.push(...b.values);
  })();
  if (during) await during(engine);
  const stats = await engine.done;
  await reading;
  return { stats, values, engine };
}

const flowFrame = (sport: number, extra: Partial<Parameters<typeof buildFrame>[0]> = {}) => buildFrame({ src: '10.0.0.1', dst: '10.1.0.1', sport, dport: 5000, ...extra });

describe('engine: delivery and accounting', () => {
  it('delivers every frame exactly once to the handler, with 1 and 2 workers', async () => {
    for (const workers of [1, 2]) {
      const frames = syntheticFrames(1000, 50);
      const { stats, values } = await run({ frames, workers, replay: { loops: 3 }, handler: fixture('engine-flows.mjs') });
      expect(values).toHaveLength(3000);
      expect(stats.rx_packets).toBe(3000);
      expect(stats.delivered).toBe(3000);
      expectAccounted(stats);
      // Every frame's source port came through: 60 per flow (20 frames × 3 loops).
      const perPort = new Map<number, number>();
      for (const v of values) perPort.set(v % 65536, (perPort.get(v % 65536) ?? 0) + 1);
      expect(perPort.size).toBe(50);
      for (const n of perPort.values()) expect(n).toBe(60);
      expect(stats.latency_ns.count).toBe(3000);
      expect(stats.latency_ns.p50).toBeGreaterThan(0);
      expect(stats.latency_ns.max).toBeGreaterThanOrEqual(stats.latency_ns.p99);
    }
  });

  it('expectedPackets is the frames over every queue × loops, after the frame lists were written and released', async () => {
    const e = new Engine({ frames: syntheticFrames(1000, 50), workers: 2, queues: 2, replay: { loops: 3, rate: 1000 } });
    await e.start();
    try {
      expect(e.expectedPackets).toBe(3000);
    } finally {
      await e.stop();
    }
  });

  it('RSS keeps each flow on one worker, the one its hash selects, and uses both', async () => {
    const frames = syntheticFrames(2000, 200);
    const { stats, values } = await run({ frames, workers: 2, queues: 1, handler: fixture('engine-flows.mjs') });
    expectAccounted(stats);
    const workerOf = new Map<number, Set<number>>();
    for (const v of values) {
      const w = Math.floor(v / 2 ** 32);
      const port = v % 65536;
      if (!workerOf.has(port)) workerOf.set(port, new Set());
      workerOf.get(port)!.add(w);
    }
    expect(workerOf.size).toBe(200);
    for (const ws of workerOf.values()) expect(ws.size).toBe(1);
    const counts = [0, 0];
    for (const ws of workerOf.values()) counts[[...ws][0]]++;
    expect(counts[0]).toBeGreaterThan(40);
    expect(counts[1]).toBeGreaterThan(40);
  });

  it('flow rules steer by port range, prefix, VLAN, protocol and ethertype, and mark', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      frames.push(flowFrame(1000 + (i % 4))); // sport 1000-1003 -> queue 1
      frames.push(buildFrame({ src: '192.168.7.9', dst: '10.1.0.1', sport: 2000, dport: 5000 })); // src 192.168.0.0/16 -> queue 0, mark 9
      frames.push(flowFrame(3000, { vlan: 42 })); // vlan 42 -> queue 1, mark 42
      frames.push(flowFrame(4000, { proto: 'tcp' })); // proto tcp -> drop
    }
    const rules = ['sport 1000-1003 -> queue 1', 'src 192.168.0.0/16 -> queue 0, mark 9', 'vlan 42 -> queue 1, mark 42', 'proto tcp -> drop', 'ethertype ipv6 -> drop'];
    const { stats, values } = await run({ frames, workers: 2, rules, handler: fixture('engine-flows.mjs') });
    expectAccounted(stats);
    expect(stats.dropped.rule_drop).toBe(20);
    const seen = new Map<number, Set<string>>();
    for (const v of values) {
      const port = v % 65536;
      const key = `${Math.floor(v / 2 ** 32)}/${Math.floor(v / 65536) % 65536}`;
      if (!seen.has(port)) seen.set(port, new Set());
      seen.get(port)!.add(key);
    }
    for (const p of [1000, 1001, 1002, 1003]) expect([...seen.get(p)!]).toEqual(['1/0']);
    expect([...seen.get(2000)!]).toEqual(['0/9']);
    expect([...seen.get(3000)!]).toEqual(['1/42']);
    expect(seen.has(4000)).toBe(false);
  });

  it('adds and removes rules while running; workers pick them up', async () => {
    const frames = syntheticFrames(256, 16);
    const engine = new Engine({ frames, workers: 2, replay: { loops: 0 } });
    await engine.start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(engine.stats().dropped.rule_drop).toBe(0);
      const id = await engine.addRule('sport 1024 -> drop');
      const a = engine.stats().dropped.rule_drop;
      await new Promise((r) => setTimeout(r, 100));
      const b = engine.stats().dropped.rule_drop;
      expect(b).toBeGreaterThan(a);
      expect(await engine.removeRule(id)).toBe(true);
      const c = engine.stats().dropped.rule_drop;
      await new Promise((r) => setTimeout(r, 100));
      // Once removeRule resolved, no worker matches the rule any more.
      expect(engine.stats().dropped.rule_drop).toBe(c);
      expect(engine.rules()).toEqual([]);
    } finally {
      const s = await engine.stop();
      expectAccounted(s);
    }
  });

  it('serves priority class 0 before class 1 within every burst', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 512; i++) frames.push(flowFrame(i % 2 ? 1111 : 2222));
    const rules = ['sport 1111 -> class 0, mark 1', 'sport 2222 -> class 1, mark 2'];
    const { stats, values } = await run({ frames, workers: 1, classes: 2, burst: 32, rules, replay: { loops: 4 }, handler: fixture('engine-order.mjs') });
    expectAccounted(stats);
    let burst: number[] = [];
    let bursts = 0;
    for (const v of values) {
      if (v === 2 ** 20) {
        // Marks never go down within a burst: every class-0 frame waiting came first.
        for (let i = 1; i < burst.length; i++) expect(burst[i]).toBeGreaterThanOrEqual(burst[i - 1]);
        bursts++;
        burst = [];
      } else burst.push(v);
    }
    expect(bursts).toBeGreaterThan(10);
  });
});

describe('engine: drops, each reason provoked and counted exactly', () => {
  it('rule_drop: a drop rule drops exactly the frames it matches', async () => {
    const frames = syntheticFrames(640, 64); // 10 frames per flow
    const { stats, values } = await run({ frames, workers: 2, rules: ['sport 1024-1027 -> drop'], handler: fixture('engine-count.mjs') });
    expect(stats.dropped.rule_drop).toBe(40);
    expect(values.reduce((a, b) => a + b, 0)).toBe(600);
    expect(stats.delivered).toBe(600);
    expectAccounted(stats);
  });

  it('parse_error: with dropErrors, exactly the malformed frames are dropped', async () => {
    const good = syntheticFrames(100, 10);
    const bad = Array.from({ length: 7 }, (_, i) => flowFrame(9000 + i).subarray(0, 20)); // IPv4 header cut at 6 of 20 bytes
    const { stats } = await run({ frames: [...good, ...bad], workers: 1, parse: { dropErrors: true }, handler: fixture('engine-count.mjs') });
    expect(stats.dropped.parse_error).toBe(7);
    expect(stats.delivered).toBe(100);
    expectAccounted(stats);
  });

  it('handler_error: a throwing handler costs exactly its bursts and the worker keeps going', async () => {
    const frames = syntheticFrames(2000, 40);
    frames[500] = flowFrame(7777);
    frames[1500] = flowFrame(7777);
    const errors: unknown[] = [];
    const engine = new Engine({ frames, workers: 2, handler: fixture('engine-count.mjs') });
    engine.on('handler-error', (e) => errors.push(e));
    await engine.start();
    const lengths: number[] = [];
    for await (const b of engine.records()) lengths.push(...b.values);
    const stats = await engine.done;
    const total = lengths.reduce((a, b) => a + b, 0);
    expect(total).toBe(2000); // every frame was handed to the handler once
    expect(stats.dropped.handler_error).toBeGreaterThanOrEqual(2);
    expect(stats.delivered + stats.dropped.handler_error).toBe(2000);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ message: 'poison frame' });
    expectAccounted(stats);
  });

  it('pool_empty: a NIC-like source with fewer frames than a burst drops the rest', async () => {
    const frames = syntheticFrames(640, 64);
    const { stats } = await run({ frames, workers: 1, frameCount: 32, poolCache: 0, ringSize: 64, burst: 64, replay: { lossy: true }, handler: fixture('engine-count.mjs') });
    // Each poll: 64 records offered, the pool holds 32: 32 delivered, 32 dropped for want of a frame.
    expect(stats.dropped.pool_empty).toBe(320);
    expect(stats.dropped.ring_full).toBe(0);
    expect(stats.delivered).toBe(320);
    expectAccounted(stats);
  });

  it('ring_full: a NIC-like source faster than its receive ring drops the overflow', async () => {
    const frames = syntheticFrames(640, 64);
    const { stats } = await run({ frames, workers: 1, frameCount: 1024, ringSize: 16, burst: 64, replay: { lossy: true }, handler: fixture('engine-count.mjs') });
    // Each poll: 64 frames offered to a 16-slot ring that was drained by the poll before.
    expect(stats.dropped.ring_full).toBe(640 - 160);
    expect(stats.delivered).toBe(160);
    expect(stats.dropped.pool_empty).toBe(0);
    expectAccounted(stats);
  });

  it('lossless replay (the default) never drops, even with a tiny pool', async () => {
    const frames = syntheticFrames(3000, 64);
    const { stats } = await run({ frames, workers: 2, frameCount: 64, poolCache: 4, ringSize: 16, burst: 16 });
    expect(stats.delivered).toBe(3000);
    expect(stats.dropped_total).toBe(0);
    expectAccounted(stats);
  });
});

describe('engine: workers and life cycle', () => {
  it('restarts a worker that dies and recovers the frames it held', async () => {
    const frames = syntheticFrames(3000, 30);
    frames[1000] = flowFrame(6666);
    const { exits, lengths, stats } = await runWithOneWorkerDeath(frames);
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ code: 3, restarted: true });
    expect(exits[0].recovered).toBeGreaterThan(0);
    expect(stats.workers.reduce((s, w) => s + w.restarts, 0)).toBe(1);
    // The dead worker's burst is counted as handler_error; everything else was delivered.
    expect(stats.delivered).toBe(lengths.reduce((a, b) => a + b, 0));
    expect(stats.dropped.handler_error).toBeGreaterThan(0);
    expect(stats.delivered + stats.dropped.handler_error).toBe(3000);
    expectAccounted(stats);
  });

  it('keep(): frames held by the main thread and the worker are freed once, after both', async () => {
    const frames = syntheticFrames(1000, 100);
    const engine = new Engine({ frames, workers: 2, handler: fixture('engine-keep.mjs') });
    await engine.start();
    let kept = 0;
    const ports = new Set<number>();
    for await (const b of engine.records()) {
      for (const p of b.packets) {
        ports.add(p.udp!.sport);
        kept++;
      }
    }
    const stats = await engine.done;
    expect(kept).toBe(500);
    expect([...ports].every((p) => p % 2 === 0)).toBe(true);
    expectAccounted(stats);
  });

  it('keep() twice: each record holds the frame, freed once, after both', async () => {
    // 64 frames for 1000 packets: every frame is reused many times, so one freed while a record
    // still held it would carry another packet by the time the reader sees that record.
    const frames = syntheticFrames(1000, 100);
    const want = new Map<number, number>();
    for (const f of frames) {
      const sport = (f[34] << 8) | f[35]; // Ethernet, IPv4 without options, UDP
      if (f[23] === 17 && sport % 2 === 0) want.set(sport, (want.get(sport) ?? 0) + 2);
    }
    const engine = new Engine({ frames, workers: 2, frameCount: 64, handler: fixture('engine-keep-twice.mjs') });
    await engine.start();
    const seen = new Map<number, number>();
    for await (const b of engine.records()) {
      for (const p of b.packets) seen.set(p.udp!.sport, (seen.get(p.udp!.sport) ?? 0) + 1);
    }
    const stats = await engine.done;
    expect(want.size).toBeGreaterThan(0);
    expect(seen).toEqual(want);
    expectAccounted(stats);
  });

  it('keepAll(): every frame as a record, its own bytes, freed once after the reader', async () => {
    // 64 frames for 1000 packets, as in keep() twice: a frame freed early would carry another packet.
    const frames = syntheticFrames(1000, 100);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const want = new Map<string, number>();
    for (const f of frames) want.set(hex(f), (want.get(hex(f)) ?? 0) + 1);
    const engine = new Engine({ frames, workers: 2, frameCount: 64, handler: fixture('engine-keep-all.mjs') });
    await engine.start();
    const seen = new Map<string, number>();
    for await (const b of engine.records()) for (const p of b.packets) seen.set(hex(p.bytes), (seen.get(hex(p.bytes)) ?? 0) + 1);
    const stats = await engine.done;
    expect(seen).toEqual(want);
    expect(stats.records_dropped).toBe(0);
    expectAccounted(stats);
  });

  it('keepAll() past the record space: what does not fit is counted in records_dropped', async () => {
    // Five times a burst of up to 64 frames: the 256 record slots take four.
    const engine = new Engine({ frames: syntheticFrames(1000, 100), workers: 1, handler: fixture('engine-keep-all.mjs'), handlerArgs: { times: 5 } });
    await engine.start();
    let taken = 0;
    for await (const b of engine.records()) taken += b.packets.length;
    const stats = await engine.done;
    expect(stats.records_dropped).toBeGreaterThan(0);
    expect(taken + stats.records_dropped).toBe(5 * stats.delivered);
    expectAccounted(stats);
  });

  it('100 start/stop cycles leak no frame, file descriptor or thread', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const fds = () => readdirSync('/proc/self/fd').length;
    const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    const frames = syntheticFrames(64, 8);
    // Warm up once so lazily created handles (the compiled module, libuv's pool) exist before counting.
    await (async () => {
      const e = new Engine({ frames, workers: 2, replay: { loops: 0 } });
      await e.start();
      await e.stop();
    })();
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const fd0 = fds();
    const th0 = threads();
    for (let i = 0; i < 100; i++) {
      const e = new Engine({ frames, workers: 2, replay: { loops: 0 }, frameCount: 256 });
      await e.start();
      const s = await e.stop();
      expect(s.pool.in_use).toBe(0);
      expect(s.in_flight).toBe(0);
      expect(s.rx_packets).toBe(s.delivered + s.dropped_total);
    }
    await new Promise((r) => setTimeout(r, 200));
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    expect(fds()).toBeLessThanOrEqual(fd0);
    expect(threads()).toBeLessThanOrEqual(th0 + 1);

  }, 120_000);

  it('pins each worker to its CPU (config.cpus), as the kernel then reports', async () => {
    const cpus = os.cpus().length >= 2 ? [1, 0] : [0, 0];
    const e = new Engine({ frames: syntheticFrames(64), workers: 2, cpus, replay: { loops: 0 } });
    await e.start();
    try {
      expect(e.workerAffinity()).toEqual(cpus.map((c) => [c]));
    } finally {
      expectAccounted(await e.stop());
    }
  });

  it('rejects start() with the cause when the handler module fails to load', async () => {
    const e = new Engine({ frames: syntheticFrames(10), handler: fixture('no-default.mjs') });
    await expect(e.start()).rejects.toThrow(/worker 0 failed to start: .*no default export/);
  });
});

describe('engine: config and rules are checked', () => {
  it('names the field and the fix', () => {
    expect(() => new Engine({ frames: syntheticFrames(1), workers: 0 })).toThrow(EngineConfigError);
    expect(() => new Engine({ frames: syntheticFrames(1), workers: 0 })).toThrow(/workers: got 0; use a whole number from 1 to 64/);
    expect(() => new Engine({ backend: 'pcap', file: '/nonexistent.pcap' })).toThrow(/does not exist; check the path/);
    expect(() => new Engine({ frames: [] })).toThrow(/non-empty array/);
    expect(() => new Engine({ frames: syntheticFrames(1), replay: { rate: 10, speed: 1 } })).toThrow(/not both/);
    expect(() => new Engine({ frames: syntheticFrames(1), frameCount: 1000 })).toThrow(/power of two/);
    expect(() => new Engine({ frames: syntheticFrames(1), bogus: 1 } as EngineConfig)).toThrow(/unknown key/);
    expect(() => new Engine({ frames: syntheticFrames(1), recordsWakeUs: -1 })).toThrow(/recordsWakeUs: got -1; use a whole number from 0 to 1000000/);
  });

  it('parses the rule text form and rejects nonsense with the reason', () => {
    expect(parseFlowRule('src 10.0.0.0/8 proto udp dport 1000-2000 -> queue 1, mark 7')).toEqual({ src: '10.0.0.0/8', proto: 'udp', dport: [1000, 2000], action: { queue: 1, mark: 7 } });
    expect(() => parseFlowRule('dport 53')).toThrow(/missing "->"/);
    expect(() => parseFlowRule('dport 2000-1000 -> drop')).toThrow(/empty/);
    expect(() => parseFlowRule('colour red -> drop')).toThrow(/unknown match "colour"/);
    expect(() => parseFlowRule('dport 1 -> teleport')).toThrow(FlowRuleError);
  });

  it('rejects a rule that names a queue the engine does not have', async () => {
    const e = new Engine({ frames: syntheticFrames(10), workers: 2, replay: { loops: 0 } });
    await e.start();
    try {
      await expect(e.addRule('dport 1 -> queue 5')).rejects.toThrow(/queue 5 does not exist: the engine has 2/);
    } finally {
      await e.stop();
    }
  });
});

describe('engine: token-bucket shaper', () => {
  /** Received and sent rates over 2 s past the initial burst, and the last stats snapshot. */
  const window = async (e: Engine) => {
    await new Promise((r) => setTimeout(r, 300)); // past the initial burst
    // The clock readings enclose the two snapshots: a stalled test thread can only lengthen dt.
    const t0 = performance.now();
    const a = e.stats();
    await new Promise((r) => setTimeout(r, 2000));
    const b = e.stats();
    const dt = (performance.now() - t0) / 1000;
    return { pps: (b.rx_packets - a.rx_packets) / dt, bps: ((b.rx_bytes - a.rx_bytes) * 8) / dt, txPps: (b.tx_packets - a.tx_packets) / dt, last: b };
  };

  // Shaping limits the rate: a starved machine can only make it slower, never faster than the rate
  // plus the bucket's depth (20 ms of it) over the window; the precise figure is the engine bench's.
  const expectAtMost = (measured: number, rate: number) => {
    expect(measured).toBeLessThan(rate * 1.05);
    expect(measured).toBeGreaterThan(rate * 0.1);
  };

  /** A shaped replay's window `rate` stays under `limit`; every packet accounted for at stop. */
  const replayShaped = async (config: EngineConfig, rate: 'pps' | 'bps', limit: number) => {
    const e = new Engine(config);
    await e.start();
    try {
      expectAtMost((await window(e))[rate], limit);
    } finally {
      expectAccounted(await e.stop());
    }
  };

  it('never replays faster than its packet rate (+5%) over 2 s', () =>
    replayShaped({ frames: syntheticFrames(256, 16), workers: 1, replay: { loops: 0, rate: 50_000 } }, 'pps', 50_000), 10_000);

  it('never replays faster than its bit rate (+5%) over 2 s', () =>
    replayShaped({ frames: syntheticFrames(256, 16, 250), workers: 2, replay: { loops: 0, bitRate: 80e6 } }, 'bps', 80e6), 10_000);

  it('never sends faster than a transmit queue\'s rate (+5%) over 2 s; every forwarded frame is sent or counted', async () => {
    const e = new Engine({ frames: syntheticFrames(256, 16), workers: 2, queues: 1, replay: { loops: 0, rate: 60_000 }, tx: { rate: 20_000 }, handler: fixture('engine-forward.mjs') });
    await e.start();
    let stats: EngineStats;
    try {
      const { txPps, last } = await window(e);
      expectAtMost(txPps, 20_000);
      expect(last.queues[0].tx_packets).toBe(last.tx_packets);
    } finally {
      stats = await e.stop();
    }
    expectAccounted(stats);
    // The shaper delays, never drops: what was forwarded and not sent by stop is counted apart.
    expect(stats.tx_packets + stats.tx_dropped).toBe(stats.delivered);
    expect(stats.tx_dropped).toBeGreaterThan(0);
  }, 10_000);

  it('replay.speed follows the capture timestamps, x times faster', async () => {
    // 400 frames 5 ms apart: 2 s of capture, 0.5 s at speed 4.
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { writePcap } = await import('../../host/pcap/index.js');
    const dir = mkdtempSync('/tmp/wwen-');
    try {
      const file = `${dir}/timed.pcap`;
      const frames = syntheticFrames(400, 8);
      writeFileSync(file, writePcap(frames.map((data, i) => ({ linktype: 1, timestampNs: 1_000_000_000n + BigInt(i) * 5_000_000n, data, wireLength: data.length })), { linktype: 1, nanosecond: true }));
      const e = new Engine({ file, workers: 1, replay: { speed: 4 } });
      const t0 = performance.now();
      await e.start();
      await new Promise((r) => setTimeout(r, 250));
      const half = e.stats().rx_packets;
      const s = await e.done;
      const took = (performance.now() - t0) / 1000;
      expect(s.delivered).toBe(400);
      expect(took).toBeGreaterThan(0.45);
      expect(took).toBeLessThan(1.5);
      // At 250 ms about half had been replayed, not all at once.
      expect(half).toBeGreaterThan(100);
      expect(half).toBeLessThan(320);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the bucket admits rate × time + burst on a simulated clock', async () => {
    const { computeLayout, createMemory } = await import('../../host/layout.js');
    const { compileEngine, instantiateEngine } = await import('../../host/wasm.js');
    const layout = computeLayout({ frameCount: 16, scratchBytes: 4096 });
    const memory = createMemory(layout);
    const w = instantiateEngine(compileEngine(), memory) as unknown as {
      shaperInit(sh: number, pps: number, bp: number, bps: number, bb: number, now: number): void;
      shaperBudget(sh: number, now: number, bytes: number, want: number): number;
    };
    const sh = layout.scratch.offset;
    w.shaperInit(sh, 1000, 10, 0, 0, 0);
    let passed = 0;
    for (let t = 0; t <= 2e9; t += 137_000) passed += w.shaperBudget(sh, t, 100, 1000);
    expect(passed).toBeGreaterThanOrEqual(2000 + 10 - 1);
    expect(passed).toBeLessThanOrEqual(2000 + 10);
    // Bytes: 1 MB/s with 1500-byte frames and a 3000-byte bucket.
    w.shaperInit(sh, 0, 0, 1e6, 3000, 0);
    passed = 0;
    for (let t = 0; t <= 1e9; t += 50_000) passed += w.shaperBudget(sh, t, 1500, 1000);
    expect(passed).toBe(Math.floor((1e6 + 3000) / 1500));
  });
});
