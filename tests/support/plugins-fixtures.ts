// Shared by the plugin tests and bench: real frames (Ethernet/IPv4/UDP carrying MoldUDP64) in a
// real engine memory with their metadata filled as the parsers fill it, and WAT plugin fixtures.
import { createRequire } from 'node:module';
import { computeLayout, createMemory, writeControlBlock, type Layout } from '../../host/layout.js';
import { META, OFFSET_NONE, VLAN_NONE, NEXT_NONE } from '../../host/meta.js';
import { compileEngine, instantiateEngine, type EngineExports } from '../../host/wasm.js';

const require = createRequire(import.meta.url);

let wabt: { parseWat(name: string, src: string): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void } } | null = null;
export async function wat(src: string): Promise<Uint8Array> {
  wabt ??= await (require('wabt') as () => Promise<NonNullable<typeof wabt>>)();
  const m = wabt.parseWat('fixture.wat', src);
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/** A plugin in WAT from pieces: imports, memory, on_packet body (params $ptr $len $meta), extras. */
export function pluginWat(p: { imports?: string; memory?: string; onPacket?: string; extra?: string; marker?: boolean; input?: boolean } = {}): string {
  return `(module
  (import "wirewasm" "emit" (func $emit (param i32 i32 i32)))
  ${p.imports ?? ''}
  ${p.memory ?? '(memory (export "memory") 8 16)'}
  ${p.marker === false ? '' : '(func (export "wirewasm_abi_v1"))'}
  ${p.input === false ? '' : '(func (export "wirewasm_input") (param i32) (result i32) (i32.const 4096))'}
  ${p.onPacket === undefined ? '' : `(func (export "wirewasm_on_packet") (param $ptr i32) (param $len i32) (param $meta i32) (result i32) ${p.onPacket})`}
  ${p.extra ?? ''}
)`;
}

export const PTYPE_ETHER_IPV4_UDP = 0x0001 | 0x0010 | 0x0200;
/** Bytes that appear in every frame's Ethernet header and nowhere in any payload. */
export const SECRET_MAC = [0x5e, 0xc2, 0xe7, 0x5e, 0xc2, 0xe7];

/**
 * A plugin that scans its whole memory for the first four bytes of SECRET_MAC (they sit in every
 * Ethernet header the traffic builders write): it keeps its packet (1) when it finds them, else drops it (0).
 */
export function macScannerWat(): string {
  const needle = new DataView(new Uint8Array(SECRET_MAC).buffer).getUint32(0, true);
  return pluginWat({
    onPacket: `(local $i i32) (local $end i32)
      (local.set $end (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))
      (block $found (loop $l
        (br_if $found (i32.eq (i32.load (local.get $i)) (i32.const ${needle | 0})))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $end))))
        (return (i32.const 0)))
      (i32.const 1)`,
  });
}

/**
 * A plugin whose verdict is 1 when a byte of its memory in [from, to) is not zero, else 0. `from`
 * and `to` are WAT expressions of $ptr and $len (the packet); `to` may use $i, which holds `from`.
 */
export function nonZeroWat(from: string, to: string): string {
  return pluginWat({
    onPacket: `(local $i i32) (local $end i32)
      (local.set $i ${from})
      (local.set $end ${to})
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.load8_u (local.get $i)) (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i32.const 0)`,
  });
}

/** A MoldUDP64 datagram: session, first sequence number, messages (each an ITCH message). */
export function moldudp64(seq: bigint, messages: Uint8Array[]): Uint8Array {
  const n = 20 + messages.reduce((a, m) => a + 2 + m.length, 0);
  const b = new Uint8Array(n);
  const v = new DataView(b.buffer);
  b.set(new TextEncoder().encode('SESSION001'), 0);
  v.setBigUint64(10, seq);
  v.setUint16(18, messages.length);
  let p = 20;
  for (const m of messages) {
    v.setUint16(p, m.length);
    b.set(m, p + 2);
    p += 2 + m.length;
  }
  return b;
}

/** An ITCH message of `type` and total `size` (the rest is a recognisable pattern). */
export function itch(type: string, size: number, fill = 0): Uint8Array {
  const m = new Uint8Array(size);
  m[0] = type.charCodeAt(0);
  for (let i = 1; i < size; i++) m[i] = (i + fill) & 0x7f;
  return m;
}

export interface Frame {
  payload: Uint8Array;
  dstPort?: number;
  srcPort?: number;
  mark?: number;
}

export interface Traffic {
  layout: Layout;
  memory: WebAssembly.Memory;
  engine: EngineExports;
  /** Per group of frames (e.g. per worker): address of its u32 metadata-address list and verdicts. */
  bursts: { metaList: number; verdicts: number; count: number }[];
  /** Per worker: its scratch slice for PluginHost. */
  scratch: { offset: number; size: number }[];
  /** 64 bytes per worker free for the tests' own counters. */
  progress: number;
  frameBytes(i: number): Uint8Array;
}

/**
 * Writes each group's frames into the frame pool and fills their metadata records; frame i of the
 * pool gets ETH(14, SECRET_MAC) | IPv4(20) | UDP(8) | payload.
 */
export function makeTraffic(groups: Frame[][], workers = groups.length, scratchPerWorker = 512 * 1024): Traffic {
  const total = groups.reduce((a, g) => a + g.length, 0);
  let frameCount = 16;
  while (frameCount < total) frameCount *= 2;
  const listBytes = groups.length * 4096 + 64 * workers;
  const layout = computeLayout({ frameCount, workers, scratchBytes: listBytes + workers * scratchPerWorker });
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const engine = instantiateEngine(compileEngine(), memory);
  if (engine.init(layout.controlBlock) !== 0) throw new Error('engine init failed');
  const u8 = new Uint8Array(memory.buffer);
  const v = new DataView(memory.buffer);
  let frame = 0;
  let list = layout.scratch.offset;
  const bursts: Traffic['bursts'] = [];
  for (const g of groups) {
    if (g.length > 512) throw new Error('at most 512 frames per group');
    const metaList = list;
    const verdicts = list + 2048;
    list += 4096;
    g.forEach((f, j) => {
      const data = layout.frameAddress(frame);
      const m = layout.metaAddress(frame);
      const len = 42 + f.payload.length;
      u8.set([0x02, 0, 0, 0, 0, 2, ...SECRET_MAC, 0x08, 0x00], data);
      const ip = data + 14;
      u8.set([0x45, 0, (len - 14) >> 8, (len - 14) & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 7, 0, 1, 10, 7, 0, 2], ip);
      v.setUint16(ip + 20, f.srcPort ?? 40000, false);
      v.setUint16(ip + 22, f.dstPort ?? 26400, false);
      v.setUint16(ip + 24, 8 + f.payload.length, false);
      v.setUint16(ip + 26, 0, false);
      u8.set(f.payload, data + 42);
      u8.fill(0, m, m + 64);
      v.setUint32(m + META.DATA, data, true);
      v.setUint32(m + META.CAPLEN, len, true);
      v.setUint32(m + META.WIRELEN, len, true);
      v.setUint32(m + META.PTYPE, PTYPE_ETHER_IPV4_UDP, true);
      v.setBigUint64(m + META.TIMESTAMP, 1_700_000_000_000_000_000n + BigInt(frame), true);
      v.setUint16(m + META.L2, 0, true);
      v.setUint16(m + META.L3, 14, true);
      v.setUint16(m + META.L4, 34, true);
      v.setUint16(m + META.PAYLOAD, 42, true);
      v.setUint16(m + META.INNER_L3, OFFSET_NONE, true);
      v.setUint16(m + META.INNER_L4, OFFSET_NONE, true);
      v.setUint16(m + META.VLAN0, VLAN_NONE, true);
      v.setUint16(m + META.VLAN1, VLAN_NONE, true);
      v.setUint32(m + META.HASH, 0x9e3779b9 ^ frame, true);
      v.setUint32(m + META.MARK, f.mark ?? 0, true);
      v.setUint32(m + META.NEXT, NEXT_NONE, true);
      v.setUint32(metaList + 4 * j, m, true);
      frame++;
    });
    bursts.push({ metaList, verdicts, count: g.length });
  }
  const progress = list;
  list += 64 * workers;
  const scratch = Array.from({ length: workers }, (_, w) => {
    const offset = Math.ceil(list / 64) * 64 + w * scratchPerWorker;
    return { offset, size: scratchPerWorker - 64 };
  });
  return {
    layout,
    memory,
    engine,
    bursts,
    scratch,
    progress,
    frameBytes: (i: number) => u8.slice(layout.frameAddress(i), layout.frameAddress(i) + v.getUint32(layout.metaAddress(i) + META.CAPLEN, true)),
  };
}
