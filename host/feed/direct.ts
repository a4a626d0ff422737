/**
 * Runs an ABI v1 plugin on its own, without an engine: lays datagrams out in its input region the
 * way the plugin host does (64-byte block, bytes padded to 8, next block …) and calls
 * wirewasm_on_burst once per burst. For decoding captures and byte arrays in tests, for the decode
 * benchmark, and for the feed client's backends that deliver payloads (socket, io_uring).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { ABI, ABI_META_BYTES } from '../plugins/abi.js';

export interface PluginExportsV1 {
  memory: WebAssembly.Memory;
  wirewasm_init?(): number;
  wirewasm_input(capacity: number): number;
  wirewasm_on_packet(ptr: number, len: number, meta: number): number;
  wirewasm_on_burst?(count: number, metas: number): number;
}

export interface DirectPluginOptions {
  /** Called for each wirewasm.emit with a view of the plugin's memory (valid only during the call). */
  onRecord?: (kind: number, bytes: Uint8Array) => void;
  /** Input region size (default 256 KiB). */
  inputBytes?: number;
}

/** A packet to lay out: `hash` tells streams apart, `queue` 1..4 is an A/B line, `timestampNs` the receive time. */
export interface DirectPacket {
  bytes: Uint8Array;
  timestampNs?: bigint;
  hash?: number;
  queue?: number;
}

const moduleCache = new Map<string, WebAssembly.Module>();

/** The compiled module of a plugin shipped in dist/plugins (e.g. "itch", "soupbintcp-itch"). */
export function shippedPlugin(name: string): WebAssembly.Module {
  let m = moduleCache.get(name);
  if (!m) {
    const file = path.join(packageRoot, 'dist', 'plugins', `${name}.wasm`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`plugin ${name}: ${file} is missing: run \`npm run build:wasm\` (it builds plugins/ into dist/plugins)`, { cause: e });
    }
    m = new WebAssembly.Module(new Uint8Array(bytes));
    moduleCache.set(name, m);
  }
  return m;
}

export class DirectPlugin {
  readonly exports: PluginExportsV1;
  /** wirewasm.counter_add totals by id. */
  readonly counters = new Float64Array(4096);
  readonly input: number;
  readonly inputBytes: number;
  private u8: Uint8Array;
  private dv: DataView;

  constructor(module: WebAssembly.Module, private readonly opts: DirectPluginOptions = {}) {
    const imports = {
      wirewasm: {
        emit: (ptr: number, len: number, kind: number) => {
          this.opts.onRecord?.(kind, new Uint8Array(this.exports.memory.buffer, ptr >>> 0, len >>> 0));
        },
        counter_add: (id: number, delta: bigint) => {
          this.counters[id] += Number(delta);
        },
        log: () => {},
        now_ns: () => BigInt(Date.now()) * 1_000_000n,
      },
      env: { abort: () => { throw new Error('plugin aborted'); } },
    };
    this.exports = new WebAssembly.Instance(module, imports).exports as unknown as PluginExportsV1;
    if (this.exports.wirewasm_init && this.exports.wirewasm_init() !== 0) throw new Error('wirewasm_init failed');
    this.inputBytes = opts.inputBytes ?? 256 * 1024;
    this.input = this.exports.wirewasm_input(this.inputBytes) >>> 0;
    this.u8 = new Uint8Array(this.exports.memory.buffer);
    this.dv = new DataView(this.exports.memory.buffer);
  }

  private refresh(): void {
    if (this.u8.buffer !== this.exports.memory.buffer) {
      this.u8 = new Uint8Array(this.exports.memory.buffer);
      this.dv = new DataView(this.exports.memory.buffer);
    }
  }

  /**
   * Lays packets out in the input region from the start; returns how many fit.
   */
  layout(packets: readonly DirectPacket[]): number {
    this.refresh();
    let at = this.input;
    const end = this.input + this.inputBytes;
    let prev = -1;
    let k = 0;
    for (const p of packets) {
      const need = ABI_META_BYTES + ((p.bytes.length + 7) & ~7);
      if (at + need > end) break;
      this.u8.fill(0, at, at + ABI_META_BYTES);
      this.dv.setUint16(at + ABI.L2, 0xffff, true);
      this.dv.setUint16(at + ABI.L3, 0xffff, true);
      this.dv.setUint16(at + ABI.L4, 0xffff, true);
      this.dv.setUint16(at + ABI.PAYLOAD, 0, true);
      this.dv.setUint32(at + ABI.HASH, p.hash ?? 0, true);
      this.dv.setUint16(at + ABI.QUEUE, p.queue ?? 0, true);
      this.dv.setBigUint64(at + ABI.TIMESTAMP, p.timestampNs ?? 0n, true);
      this.dv.setUint32(at + ABI.WIRELEN, p.bytes.length, true);
      this.dv.setUint32(at + ABI.LEN, p.bytes.length, true);
      this.dv.setUint32(at + ABI.PTR, at + ABI_META_BYTES, true);
      this.u8.set(p.bytes, at + ABI_META_BYTES);
      if (prev >= 0) this.dv.setUint32(prev + ABI.NEXT, at, true);
      prev = at;
      at += need;
      k++;
    }
    return k;
  }

  /** Runs the plugin over the first `count` laid-out packets; returns their verdicts. */
  run(count: number): number[] {
    if (count === 0) return [];
    this.exports.wirewasm_on_burst!(count, this.input);
    this.refresh();
    const verdicts: number[] = [];
    for (let i = 0, at = this.input; i < count; i++, at = this.dv.getUint32(at + ABI.NEXT, true)) verdicts.push(this.dv.getInt32(at + ABI.VERDICT, true));
    return verdicts;
  }

  /** Lays out and runs all packets, a region-full at a time; returns the verdicts. */
  process(packets: readonly DirectPacket[]): number[] {
    const verdicts: number[] = [];
    for (let i = 0; i < packets.length; ) {
      const k = this.layout(packets.slice(i));
      if (k === 0) throw new Error(`packet ${i} (${packets[i].bytes.length} bytes) does not fit the ${this.inputBytes}-byte input region`);
      verdicts.push(...this.run(k));
      i += k;
    }
    return verdicts;
  }
}
