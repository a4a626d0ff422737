/**
 * The order book on the host side: places the WASM book (feed/book/book.ts) in a region of a shared
 * memory, feeds it the decoded-record batches of the `itch` / `soupbintcp-itch` plugins (one copy
 * and one WASM call per batch) and reads it back: `top(symbol, depth)`, `order(ref)`, the BBO
 * changes and trades of the last batch, and the book's counters.
 *
 *   book region (bookLayout): header | locate table | symbols | order slots | out records | input
 *   (the layout of each part is documented in feed/book/book.ts; `input` holds one record batch)
 */
import { readFileSync } from 'node:fs';
import { artefact } from '../paths.js';
import { SpanCopier } from '../span-copy.js';
import { RECORD_HEADER_BYTES } from './itch.js';

export interface BookConfig {
  /** Live orders at most (default 1 M). */
  orders?: number;
  /** Instruments at most (default 1024). */
  symbols?: number;
  /** Price levels per side of an instrument (default 256). */
  levels?: number;
}

/** Bytes of one record batch the plugins hand over at most (feed/itch/itch50.ts OUT_BYTES). */
export const BOOK_INPUT_BYTES = 128 * 1024;
const HEADER_BYTES = 256;
const LOCATE_BYTES = 65536 * 2;
const SYMBOL_HEADER = 16;
const SIDE_HEADER = 48;
const LEVEL_BYTES = 16;
const ORDER_BYTES = 32;
const OUT_BYTES = 40;
// Each message yields at most a BBO change and a trade; the smallest record is 32 + 8 bytes.
const OUT_CAP = 2 * Math.ceil(BOOK_INPUT_BYTES / (RECORD_HEADER_BYTES + 8));

export interface BookLayout {
  bytes: number;
  slots: number;
  orders: number;
  symbols: number;
  levels: number;
  outCap: number;
  /** Offsets from the region's base. */
  symbolsAt: number;
  ordersAt: number;
  outAt: number;
  inputAt: number;
  symbolBytes: number;
}

/** Where each part of a book region lies, for these limits: the one place that computes it. */
export function bookLayout(c: BookConfig = {}): BookLayout {
  const orders = c.orders ?? 1 << 20;
  const symbols = c.symbols ?? 1024;
  const levels = c.levels ?? 256;
  for (const [k, v, max] of [['orders', orders, 1 << 28], ['symbols', symbols, 65535], ['levels', levels, 1 << 16]] as const)
    if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`book ${k} ${v}: give a whole number from 1 to ${max}`);
  // Open addressing stays fast below 3/4 load.
  const slots = 2 ** Math.ceil(Math.log2(orders + (orders >> 1) + 1));
  const symbolBytes = SYMBOL_HEADER + 2 * (SIDE_HEADER + levels * LEVEL_BYTES);
  const symbolsAt = HEADER_BYTES + LOCATE_BYTES;
  const ordersAt = symbolsAt + symbols * symbolBytes;
  const outAt = ordersAt + slots * ORDER_BYTES;
  const inputAt = outAt + OUT_CAP * OUT_BYTES;
  return { bytes: inputAt + BOOK_INPUT_BYTES, slots, orders, symbols, levels, outCap: OUT_CAP, symbolsAt, ordersAt, outAt, inputAt, symbolBytes };
}

/** Counter names, in the order of the header's counters (feed/book/book.ts C_*). */
export const BOOK_COUNTERS = ['applied', 'unknown_ref', 'duplicate_ref', 'orders_full', 'levels_full', 'symbols_full', 'out_full', 'bbo_changes', 'trades', 'over_executed'] as const;
export type BookCounters = Record<(typeof BOOK_COUNTERS)[number], number>;

/** [price (4 implied decimals), total shares] of a side's best level, or null when the side is empty. */
export type Quote = [price: number, shares: number] | null;
export interface BboChange {
  kind: 'bbo';
  seq: bigint;
  stock: string;
  bid: Quote;
  ask: Quote;
}
export interface Trade {
  kind: 'trade';
  seq: bigint;
  stock: string;
  side: 'B' | 'S';
  price: number;
  shares: number;
  match: bigint;
  ref: bigint;
  printable: boolean;
}
export type BookRecord = BboChange | Trade;
export interface Level {
  price: number;
  shares: number;
  orders: number;
}
export interface BookOrder {
  ref: bigint;
  stock: string;
  side: 'B' | 'S';
  shares: number;
  price: number;
}

interface BookExports {
  bookInit(base: number, bytes: number, slots: number, orders: number, symbols: number, levels: number, outCap: number, symbolsAt: number, ordersAt: number, outAt: number): void;
  bookApply(base: number, p: number, len: number): number;
  orderFind(base: number, ref: bigint): number;
}

let compiled: WebAssembly.Module | null = null;
function bookModule(): WebAssembly.Module {
  if (!compiled) {
    const file = artefact('dist/wasm/book.wasm');
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new Error(`order book: ${file} is missing: run \`npm run build:wasm\``, { cause: e });
    }
    compiled = new WebAssembly.Module(new Uint8Array(bytes));
  }
  return compiled;
}

/** Price with 4 implied decimals as a decimal string: 3469700 → "346.9700". */
export function price4(p: number): string {
  return `${Math.floor(p / 10000)}.${String(p % 10000).padStart(4, '0')}`;
}

const latin1 = new TextDecoder('latin1');

export class OrderBook {
  readonly layout: BookLayout;
  private readonly x: BookExports;
  private u8: Uint8Array;
  private dv: DataView;
  private readonly names: string[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly cursor = new BookView(this.names);
  private readonly inputCopy = new SpanCopier();

  /** A book in `memory` at `base` (bookLayout(config).bytes long, 8-aligned). */
  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base: number,
    config: BookConfig = {},
  ) {
    this.layout = bookLayout(config);
    if (base % 8 || base + this.layout.bytes > memory.buffer.byteLength)
      throw new Error(`order book: region [${base}, ${base + this.layout.bytes}) is not 8-aligned inside the ${memory.buffer.byteLength}-byte memory`);
    this.x = new WebAssembly.Instance(bookModule(), { env: { memory, abort: () => { throw new Error('order book aborted'); } } }).exports as unknown as BookExports;
    const l = this.layout;
    this.x.bookInit(base, l.bytes, l.slots, l.orders, l.symbols, l.levels, l.outCap, l.symbolsAt, l.ordersAt, l.outAt);
    this.u8 = new Uint8Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
  }

  /** A book in a shared memory of its own. */
  static create(config: BookConfig = {}): OrderBook {
    const bytes = bookLayout(config).bytes;
    const pages = Math.ceil((bytes + 65536) / 65536);
    return new OrderBook(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }), 65536, config);
  }

  private views(): void {
    if (this.u8.buffer !== this.memory.buffer) {
      this.u8 = new Uint8Array(this.memory.buffer);
      this.dv = new DataView(this.memory.buffer);
    }
  }

  /**
   * Applies a KIND_MESSAGES batch of decoded records (at most BOOK_INPUT_BYTES, as the plugins emit
   * them): one copy into the region's input, one WASM call. Returns how many BBO changes and trades
   * it produced (read them with records()).
   */
  apply(batch: Uint8Array): number {
    return this.applyFrom(batch, 0, batch.length);
  }

  /**
   * apply() of the batch at bytes[at, at + len) (e.g. a plugin's memory, read in place during its
   * emit): the same one copy, with no copy of the batch first and, from a fixed `at`, no view
   * object per batch (SpanCopier).
   */
  applyFrom(bytes: Uint8Array, at: number, len: number): number {
    this.views();
    if (len > BOOK_INPUT_BYTES) throw new Error(`order book: a ${len}-byte record batch exceeds the ${BOOK_INPUT_BYTES}-byte input; hand batches over as the plugin emits them`);
    this.inputCopy.copy(bytes, at, len, this.u8, this.base + this.layout.inputAt, BOOK_INPUT_BYTES);
    return this.x.bookApply(this.base, this.base + this.layout.inputAt, len);
  }

  /** Applies records already in the memory at `ptr` (zero copy). */
  applyAt(ptr: number, len: number): number {
    return this.x.bookApply(this.base, ptr, len);
  }

  /** Number of out records of the last apply. */
  get outCount(): number {
    return this.dv.getUint32(this.base + 28, true);
  }

  /**
   * The BBO changes and trades of the last apply as a cursor over the book's out records, in message
   * order: nothing is allocated (one cursor per book, rewound by each call), so a reader on the hot
   * path makes no garbage and meets no collector pause. Valid until the next apply.
   *
   *   const v = book.view();
   *   while (v.next()) if (v.kind === 'bbo') v.seq, v.stock, v.bidPrice, v.bidShares …
   */
  view(): BookView {
    this.views();
    this.syncSymbols();
    return this.cursor.reset(this.u8, this.dv, this.base + this.layout.outAt, this.outCount);
  }

  /** The BBO changes and trades of the last apply, in message order. */
  records(): BookRecord[] {
    this.views();
    const out: BookRecord[] = [];
    const n = this.outCount;
    for (let i = 0; i < n; i++) {
      const o = this.base + this.layout.outAt + i * OUT_BYTES;
      const d = this.dv;
      const stock = this.symbolName(d.getUint16(o + 2, true));
      const seq = d.getBigUint64(o + 8, true);
      if (this.u8[o] === 1) {
        const bs = Number(d.getBigUint64(o + 24, true));
        const as = Number(d.getBigUint64(o + 32, true));
        out.push({ kind: 'bbo', seq, stock, bid: bs ? [d.getUint32(o + 16, true), bs] : null, ask: as ? [d.getUint32(o + 20, true), as] : null });
      } else
        out.push({
          kind: 'trade', seq, stock, side: this.u8[o + 1] === 0x42 ? 'B' : 'S', price: d.getUint32(o + 16, true), shares: d.getUint32(o + 20, true),
          match: d.getBigUint64(o + 24, true), ref: d.getBigUint64(o + 32, true), printable: this.u8[o + 4] !== 0x4e,
        });
    }
    return out;
  }

  private symbolName(slot: number): string {
    this.syncSymbols();
    return this.names[slot];
  }

  private syncSymbols(): void {
    const n = this.dv.getUint32(this.base + 20, true);
    for (let s = this.names.length; s < n; s++) {
      const at = this.base + this.layout.symbolsAt + s * this.layout.symbolBytes;
      const name = latin1.decode(this.u8.subarray(at, at + 8)).trimEnd();
      this.names.push(name);
      if (!this.slotOf.has(name)) this.slotOf.set(name, s);
    }
  }

  /** Instruments the book knows (named by R or first A/F), in the order first seen. */
  symbols(): string[] {
    this.views();
    this.syncSymbols();
    return [...this.names];
  }

  /** The best `depth` levels of each side of `symbol` (best first); empty sides when unknown. */
  top(symbol: string, depth = 5): { bid: Level[]; ask: Level[] } {
    this.views();
    this.syncSymbols();
    const s = this.slotOf.get(symbol);
    if (s === undefined) return { bid: [], ask: [] };
    const at = this.base + this.layout.symbolsAt + s * this.layout.symbolBytes;
    const side = (bid: boolean): Level[] => {
      // A side: count u32 | … | keys u32 × levels | orders u32 × levels | shares u64 × levels, a
      // key being the price ^ flip (feed/book/book.ts sideFlip).
      const L = this.layout.levels;
      const sideAt = at + SYMBOL_HEADER + (bid ? 0 : SIDE_HEADER + L * LEVEL_BYTES);
      const n = this.dv.getUint32(sideAt, true);
      const pr = sideAt + SIDE_HEADER;
      const flip = bid ? 0x80000000 : 0x7fffffff;
      const out: Level[] = [];
      for (let i = n - 1; i >= 0 && out.length < depth; i--)
        out.push({ price: (this.dv.getUint32(pr + 4 * i, true) ^ flip) >>> 0, orders: this.dv.getUint32(pr + 4 * L + 4 * i, true), shares: Number(this.dv.getBigUint64(pr + 8 * L + 8 * i, true)) });
      return out;
    };
    return { bid: side(true), ask: side(false) };
  }

  /** The live order `ref`, or null. */
  order(ref: bigint | number): BookOrder | null {
    const e = this.x.orderFind(this.base, BigInt(ref)) >>> 0;
    if (e === 0) return null;
    this.views();
    return {
      ref: this.dv.getBigUint64(e, true), price: this.dv.getUint32(e + 8, true), shares: this.dv.getUint32(e + 12, true),
      stock: this.symbolName(this.dv.getUint32(e + 16, true)), side: this.u8[e + 20] === 0x42 ? 'B' : 'S',
    };
  }

  /** Live orders held. */
  get orderCount(): number {
    return this.dv.getUint32(this.base + 24, true);
  }

  counters(): BookCounters {
    this.views();
    const c = {} as BookCounters;
    BOOK_COUNTERS.forEach((k, i) => (c[k] = Number(this.dv.getBigUint64(this.base + 64 + 8 * i, true))));
    return c;
  }
}

/**
 * A cursor over the out records of a book's last apply (OrderBook.view()): `next()` steps to the next
 * record; the getters read it in place. Prices have 4 implied decimals; an empty side of a BBO
 * change has price and shares 0. The BboChange / Trade objects of records() carry the same fields.
 */
export class BookView {
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private at = 0;
  private end = 0;
  private o = -OUT_BYTES;

  constructor(private readonly names: readonly string[]) {}

  /** @internal */
  reset(u8: Uint8Array, dv: DataView, at: number, count: number): this {
    this.u8 = u8;
    this.dv = dv;
    this.at = at;
    this.end = at + count * OUT_BYTES;
    this.o = at - OUT_BYTES;
    return this;
  }

  /** Records in this batch. */
  get count(): number {
    return (this.end - this.at) / OUT_BYTES;
  }

  /** Steps to the next record; false past the last. */
  next(): boolean {
    this.o += OUT_BYTES;
    return this.o < this.end;
  }

  get kind(): 'bbo' | 'trade' {
    return this.u8[this.o] === 1 ? 'bbo' : 'trade';
  }
  /** The MoldUDP64 sequence number of the message that made this record (exact below 2^53). */
  get seq(): number {
    return this.dv.getUint32(this.o + 12, true) * 2 ** 32 + this.dv.getUint32(this.o + 8, true);
  }
  get stock(): string {
    return this.names[this.dv.getUint16(this.o + 2, true)];
  }
  /** BBO change: the best bid's price and total shares (0 and 0 when the side is empty). */
  get bidPrice(): number {
    return this.bidShares ? this.dv.getUint32(this.o + 16, true) : 0;
  }
  get bidShares(): number {
    return this.u64(24);
  }
  get askPrice(): number {
    return this.askShares ? this.dv.getUint32(this.o + 20, true) : 0;
  }
  get askShares(): number {
    return this.u64(32);
  }
  /** Trade: the resting order's side, the price and shares executed, match number, order reference. */
  get side(): 'B' | 'S' {
    return this.u8[this.o + 1] === 0x42 ? 'B' : 'S';
  }
  get price(): number {
    return this.dv.getUint32(this.o + 16, true);
  }
  get shares(): number {
    return this.dv.getUint32(this.o + 20, true);
  }
  get match(): bigint {
    return this.dv.getBigUint64(this.o + 24, true);
  }
  get ref(): bigint {
    return this.dv.getBigUint64(this.o + 32, true);
  }
  get printable(): boolean {
    return this.u8[this.o + 4] !== 0x4e;
  }

  private u64(off: number): number {
    return this.dv.getUint32(this.o + off + 4, true) * 2 ** 32 + this.dv.getUint32(this.o + off, true);
  }
}

/** One BBO change as the `--bbo` jsonl line: {"seq":N,"stock":"AAPL","bid":["346.9700",4500],"ask":null}. */
export function bboLine(r: BboChange): string {
  const q = (x: Quote) => (x ? `["${price4(x[0])}",${x[1]}]` : 'null');
  return `{"seq":${r.seq},"stock":${JSON.stringify(r.stock)},"bid":${q(r.bid)},"ask":${q(r.ask)}}`;
}
