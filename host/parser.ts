// Runs the WASM frame parser over captured records from the host: places a batch of frames in the
// scratch region of a shared memory, fills their metadata records (data, caplen, wirelen,
// linktype, timestamp), parses the whole batch in one call and hands out Packet views.
import { computeLayout, createMemory, writeControlBlock, type Layout, type LayoutConfig } from './layout.js';
import { META } from './meta.js';
import { Packet } from './packet.js';
import * as P from './ptype.js';
import type { CaptureRecord } from './pcap/index.js';
import { MAX_RECORD_BYTES } from './pcap/index.js';
import { compileEngine, instantiateEngine } from './wasm.js';
import type { EngineExports } from './abi.js';


/** The engine's parser over a fresh memory of its own (control block written), with views of that memory. */
export interface ParseEngine {
  layout: Layout;
  memory: WebAssembly.Memory;
  exports: EngineExports;
  u8: Uint8Array;
  dv: DataView;
}

/** For code that places frames and metadata records itself: FrameParser, the parse bench, the fuzz test. */
export function createParseEngine(config: LayoutConfig): ParseEngine {
  const layout = computeLayout(config);
  const memory = createMemory(layout);
  writeControlBlock(memory, layout);
  const exports = instantiateEngine(compileEngine(), memory);
  return { layout, memory, exports, u8: new Uint8Array(memory.buffer), dv: new DataView(memory.buffer) };
}

/** The Microsoft/Intel verification key: the usual default RSS key of NICs. */
export const DEFAULT_RSS_KEY = Uint8Array.from(Buffer.from('6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa', 'hex'));
export const RSS_TABLE_BYTES = 36 * 256 * 4;

export interface FrameParserOptions {
  /** Frames per parse call (a power of two). */
  batch?: number;
  /** Parse flags (PARSE_* of host/ptype.ts); PARSE_RSS is added when rssKey is given. */
  flags?: number;
  /** Toeplitz key (at least 40 bytes); the default key is used when flags ask for RSS without one. */
  rssKey?: Uint8Array;
}

export class FrameParser {
  readonly layout: Layout;
  readonly memory: WebAssembly.Memory;
  readonly exports: EngineExports;
  readonly flags: number;
  private readonly rssTable: number;
  private readonly frameArea: number;
  private readonly frameAreaEnd: number;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;

  constructor(opts: FrameParserOptions = {}) {
    const batch = opts.batch ?? 1024;
    const areaBytes = Math.max(batch * 2048, 2 * MAX_RECORD_BYTES);
    ({ layout: this.layout, memory: this.memory, exports: this.exports, u8: this.u8, dv: this.dv } = createParseEngine({
      frameCount: Math.max(16, batch),
      frameSize: 2048,
      scratchBytes: RSS_TABLE_BYTES + 4096 + areaBytes,
    }));
    this.rssTable = this.layout.scratch.offset;
    const keyAddr = this.rssTable + RSS_TABLE_BYTES;
    this.frameArea = keyAddr + 4096;
    this.frameAreaEnd = this.layout.scratch.offset + this.layout.scratch.size;
    let flags = opts.flags ?? 0;
    if (opts.rssKey || flags & P.PARSE_RSS) {
      const key = opts.rssKey ?? DEFAULT_RSS_KEY;
      if (key.length < 40 || key.length > 4096) throw new Error(`RSS key of ${key.length} bytes: give 40 to 4096 bytes (the standard key is 40)`);
      this.u8.set(key, keyAddr);
      this.exports.rssPrepare(keyAddr, key.length, this.rssTable);
      flags |= P.PARSE_RSS;
    }
    this.flags = flags;
  }

  get batch(): number {
    return this.layout.config.frameCount;
  }

  /**
   * Parses `records` batch by batch and calls `each` with a Packet view of every frame in order;
   * the view is valid until `each` returns (its memory is reused by the next batch).
   */
  parse(records: Iterable<CaptureRecord>, each: (pkt: Packet, index: number, record: CaptureRecord) => void): number {
    const pkt = new Packet(this.memory.buffer);
    const pending: CaptureRecord[] = [];
    let cursor = this.frameArea;
    let index = 0;
    const metaBase = this.layout.meta.offset;
    const flush = () => {
      this.exports.parseBurst(metaBase, pending.length, this.flags, this.rssTable);
      for (let i = 0; i < pending.length; i++) each(pkt.at(metaBase + i * META.BYTES), index++, pending[i]);
      pending.length = 0;
      cursor = this.frameArea;
    };
    for (const r of records) {
      if (pending.length === this.batch || cursor + r.data.length > this.frameAreaEnd) flush();
      const meta = metaBase + pending.length * META.BYTES;
      this.u8.set(r.data, cursor);
      this.dv.setUint32(meta + META.DATA, cursor, true);
      this.dv.setUint32(meta + META.CAPLEN, r.data.length, true);
      this.dv.setUint32(meta + META.WIRELEN, r.wireLength, true);
      this.dv.setBigUint64(meta + META.TIMESTAMP, r.timestampNs, true);
      this.dv.setUint16(meta + META.LINKTYPE, r.linktype, true);
      cursor += r.data.length;
      pending.push(r);
    }
    if (pending.length) flush();
    return index;
  }
}
