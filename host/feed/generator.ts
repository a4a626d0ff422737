/**
 * A deterministic ITCH 5.0 market: the same seed gives the same messages, field for field (only the
 * timestamps, which carry the send time, differ between runs). First the system events and the
 * stock directory, then order life cycles and every other message type of the spec:
 *
 * - Each stock has a mid price on a one-cent tick grid. Bids rest below the mid, asks above it, at
 *   most 10 ticks away; the mid moves a tick only when no order rests on the tick it moves onto,
 *   so the book is never crossed nor locked.
 * - Orders are added (A, F), partly or fully executed (E, C at the order's price), cancelled in
 *   part (X), deleted (D) and replaced (U: same side, new shares and price on the grid, also after
 *   partial executions); an execution, cancel, delete or replace only names a live order, shares
 *   never go below zero. Around `ordersPerStock` orders stay live per stock.
 * - P, Q, B, I, N, H, Y, L, V, W, K, J, h and O come now and then with plausible fields.
 *
 * `book()` is the generator's own view of the live orders: a session of known length ends with a
 * known book.
 *
 * Framing: MoldUDP64 packets (one datagram, `count` message blocks) and SoupBinTCP packets.
 */
import { encodeMessage, ITCH_BY_TYPE, type ItchMessage } from './itch.js';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; enough for a reproducible market. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AVGO', 'COST', 'NFLX', 'AMD', 'PEP', 'ADBE', 'CSCO', 'INTC', 'QCOM'];
const MPIDS = ['GSCO', 'MSCO', 'JPMS', 'UBSS', 'CDRG', 'VIRT'];
const TICK = 100; // $0.01 in Price(4)
const DEPTH_TICKS = 10;

export interface GeneratedOrder {
  ref: number;
  locate: number;
  stock: string;
  side: 'B' | 'S';
  shares: number;
  price: number;
}

interface Stock {
  symbol: string;
  locate: number;
  mid: number;
  /** Orders resting at each price, by side. */
  bids: Map<number, number>;
  asks: Map<number, number>;
}

/** Weights of the mix, in per mille. */
const MIX: [string, number][] = [
  ['A', 330], ['F', 40], ['E', 120], ['C', 30], ['X', 100], ['D', 140], ['U', 100], ['P', 50], ['Q', 10], ['I', 20], ['N', 10], ['B', 10],
  ['H', 5], ['Y', 5], ['L', 5], ['V', 2], ['W', 2], ['K', 3], ['J', 5], ['h', 3], ['O', 3], ['S', 2], ['M', 5],
];

export class ItchGenerator {
  private readonly rand: () => number;
  private readonly stocks: Stock[];
  private readonly live: GeneratedOrder[] = [];
  private readonly index = new Map<number, number>(); // ref → position in live
  private readonly preamble: ItchMessage[] = [];
  private readonly mixTable: string[] = [];
  private nextRef = 1;
  private nextMatch = 1;
  private tracking = 0;
  /** Messages produced so far. */
  produced = 0;

  constructor(
    seed = 1,
    stockCount = 8,
    private readonly ordersPerStock = 200,
  ) {
    this.rand = prng(seed);
    this.stocks = SYMBOLS.slice(0, Math.max(1, Math.min(stockCount, SYMBOLS.length))).map((symbol, i) => ({
      symbol, locate: i + 1, mid: (10 + Math.floor(this.rand() * 490)) * 10000, bids: new Map(), asks: new Map(),
    }));
    for (const [t, w] of MIX) for (let i = 0; i < w; i++) this.mixTable.push(t);
    const sys = (code: string): ItchMessage => ({ type: 'S', locate: 0, tracking: 0, timestamp: 0n, values: [code] });
    this.preamble.push(sys('O'), sys('S'));
    for (const s of this.stocks)
      this.preamble.push({ type: 'R', locate: s.locate, tracking: 0, timestamp: 0n, values: [s.symbol, 'Q', 'N', 100, 'N', 'C', 'Z ', 'P', 'N', 'N', '1', 'N', 0, 'N'] });
    this.preamble.push(sys('Q'));
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  /** A price for a new order on `side`: 1 to DEPTH_TICKS ticks away from the mid, never below a tick. */
  private priceFor(s: Stock, side: 'B' | 'S'): number {
    const away = (1 + Math.min(this.int(DEPTH_TICKS), this.int(DEPTH_TICKS))) * TICK; // nearer the mid more often
    return side === 'B' ? Math.max(TICK, s.mid - away) : s.mid + away;
  }

  private rest(o: GeneratedOrder, k: 1 | -1): void {
    const s = this.stocks[o.locate - 1];
    const m = o.side === 'B' ? s.bids : s.asks;
    const n = (m.get(o.price) ?? 0) + k;
    if (n) m.set(o.price, n);
    else m.delete(o.price);
  }

  private addLive(o: GeneratedOrder): void {
    this.index.set(o.ref, this.live.length);
    this.live.push(o);
    this.rest(o, 1);
  }

  private removeLive(o: GeneratedOrder): void {
    const i = this.index.get(o.ref)!;
    this.index.delete(o.ref);
    const last = this.live.pop()!;
    if (i < this.live.length) {
      this.live[i] = last;
      this.index.set(last.ref, i);
    }
    this.rest(o, -1);
  }

  /** Moves a stock's mid a tick when no order rests on the tick it moves onto (never crossed). */
  private drift(s: Stock): void {
    if (this.rand() < 0.5) {
      if (!s.asks.has(s.mid + TICK)) s.mid += TICK;
    } else if (s.mid > 2 * TICK && !s.bids.has(s.mid - TICK)) s.mid -= TICK;
  }

  /** The next message, stamped with `timestamp` (ns since midnight). */
  next(timestamp: bigint): ItchMessage {
    this.produced++;
    if (this.preamble.length) {
      const m = this.preamble.shift()!;
      m.timestamp = timestamp;
      return m;
    }
    this.tracking = (this.tracking + 1) & 0xffff;
    let type = this.mixTable[this.int(this.mixTable.length)];
    const full = this.live.length > this.ordersPerStock * this.stocks.length;
    if (this.live.length < 8 && 'ECXDUM'.includes(type)) type = 'A';
    else if (full && (type === 'A' || type === 'F')) type = 'D';
    const head = (locate: number) => ({ locate, tracking: this.tracking, timestamp });
    const stock = this.stocks[this.int(this.stocks.length)];
    const sym = stock.symbol;
    switch (type) {
      case 'A':
      case 'F': {
        this.drift(stock);
        const side = this.rand() < 0.5 ? 'B' : 'S';
        const o: GeneratedOrder = { ref: this.nextRef++, locate: stock.locate, stock: sym, side, shares: (1 + this.int(50)) * 100, price: this.priceFor(stock, side) };
        this.addLive(o);
        const values = [o.ref, o.side, o.shares, sym, o.price];
        if (type === 'F') values.push(MPIDS[this.int(MPIDS.length)]);
        return { type, ...head(o.locate), values };
      }
      case 'E':
      case 'C':
      case 'M': {
        // M: an execution that takes the whole order (a full fill), as E.
        const o = this.live[this.int(this.live.length)];
        const n = type === 'M' ? o.shares : Math.min(o.shares, (1 + this.int(5)) * 100);
        o.shares -= n;
        if (o.shares === 0) this.removeLive(o);
        const values: (number | string)[] = [o.ref, n, this.nextMatch++];
        if (type === 'C') values.push(this.rand() < 0.9 ? 'Y' : 'N', o.price);
        return { type: type === 'M' ? 'E' : type, ...head(o.locate), values };
      }
      case 'X': {
        const o = this.live[this.int(this.live.length)];
        const n = Math.max(1, Math.min(o.shares - 1, (1 + this.int(3)) * 100));
        o.shares -= n;
        if (o.shares === 0) this.removeLive(o);
        return { type, ...head(o.locate), values: [o.ref, n] };
      }
      case 'D': {
        const o = this.live[this.int(this.live.length)];
        this.removeLive(o);
        return { type, ...head(o.locate), values: [o.ref] };
      }
      case 'U': {
        const o = this.live[this.int(this.live.length)];
        const old = o.ref;
        this.removeLive(o);
        const s = this.stocks[o.locate - 1];
        const n: GeneratedOrder = { ...o, ref: this.nextRef++, shares: (1 + this.int(50)) * 100, price: this.priceFor(s, o.side) };
        this.addLive(n);
        return { type, ...head(n.locate), values: [old, n.ref, n.shares, n.price] };
      }
      case 'P':
        return { type, ...head(stock.locate), values: [0, this.rand() < 0.5 ? 'B' : 'S', (1 + this.int(10)) * 100, sym, stock.mid, this.nextMatch++] };
      case 'Q':
        return { type, ...head(stock.locate), values: [BigInt((1 + this.int(1000)) * 100), sym, stock.mid, this.nextMatch++, 'O'] };
      case 'I':
        return { type, ...head(stock.locate), values: [BigInt(this.int(100000)), BigInt(this.int(10000)), 'B', sym, stock.mid + 500, stock.mid - 500, stock.mid, 'O', ' '] };
      case 'N':
        return { type, ...head(stock.locate), values: [sym, this.rand() < 0.5 ? 'B' : 'S'] };
      case 'B':
        return { type, ...head(stock.locate), values: [Math.max(1, this.nextMatch - 1 - this.int(10))] };
      case 'H':
        return { type, ...head(stock.locate), values: [sym, 'T', ' ', '    '] };
      case 'Y':
        return { type, ...head(stock.locate), values: [sym, '0'] };
      case 'L':
        return { type, ...head(stock.locate), values: [MPIDS[this.int(MPIDS.length)], sym, this.rand() < 0.5 ? 'Y' : 'N', 'N', 'A'] };
      case 'V':
        return { type, ...head(0), values: [382_500_000_000n, 356_250_000_000n, 330_000_000_000n] };
      case 'W':
        return { type, ...head(0), values: [String(1 + this.int(3))] };
      case 'K':
        return { type, ...head(stock.locate), values: [sym, 34_200 + this.int(3600), 'A', stock.mid] };
      case 'J':
        return { type, ...head(stock.locate), values: [sym, stock.mid, stock.mid + 50 * TICK, Math.max(TICK, stock.mid - 50 * TICK), this.int(3)] };
      case 'h':
        return { type, ...head(stock.locate), values: [sym, 'Q', this.rand() < 0.5 ? 'H' : 'T'] };
      case 'O':
        return {
          type, ...head(stock.locate),
          values: [sym, 'Y', Math.max(TICK, stock.mid - 100 * TICK), stock.mid + 100 * TICK, stock.mid, BigInt(34_200 + this.int(23_400)) * 1_000_000_000n, Math.max(TICK, stock.mid - 20 * TICK), stock.mid + 20 * TICK],
        };
      default: // 'S': a market-wide event that does not end the session
        return { type: 'S', ...head(0), values: [this.rand() < 0.5 ? 'Q' : 'M'] };
    }
  }

  /** Orders currently live (for tests of consistency). */
  get liveOrders(): number {
    return this.live.length;
  }

  /** The live orders, as the generator made them: the book a receiver must hold now. */
  book(): GeneratedOrder[] {
    return this.live.map((o) => ({ ...o }));
  }
}

// --- MoldUDP64 ----------------------------------------------------------------------------------

export const MOLD_HEADER_BYTES = 20;
export const MOLD_HEARTBEAT = 0;
export const MOLD_END_OF_SESSION = 0xffff;

/** A session name: 10 ASCII bytes, space padded. */
export function sessionName(s: string): Uint8Array {
  if (!/^[\x20-\x7e]{1,10}$/.test(s)) throw new Error(`MoldUDP64 session ${JSON.stringify(s)}: use 1 to 10 printable ASCII characters`);
  const b = new Uint8Array(10).fill(0x20);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** One MoldUDP64 packet holding `messages` (already encoded), numbered from `sequence`. */
export function moldPacket(session: Uint8Array, sequence: bigint, messages: readonly ItchMessage[]): Uint8Array {
  let size = MOLD_HEADER_BYTES;
  for (const m of messages) size += 2 + ITCH_BY_TYPE.get(m.type)!.size;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set(session, 0);
  v.setBigUint64(10, sequence);
  v.setUint16(18, messages.length);
  let o = MOLD_HEADER_BYTES;
  for (const m of messages) {
    const n = encodeMessage(out, o + 2, m, v);
    v.setUint16(o, n);
    o += 2 + n;
  }
  return out;
}

/** A heartbeat (count 0) or end-of-session (count 0xFFFF) packet; `sequence` is the next one. */
export function moldControl(session: Uint8Array, sequence: bigint, count: typeof MOLD_HEARTBEAT | typeof MOLD_END_OF_SESSION): Uint8Array {
  const out = new Uint8Array(MOLD_HEADER_BYTES);
  out.set(session, 0);
  new DataView(out.buffer).setBigUint64(10, sequence);
  new DataView(out.buffer).setUint16(18, count);
  return out;
}

// --- SoupBinTCP ---------------------------------------------------------------------------------

/** One SoupBinTCP packet: length (2, excludes itself), type, payload. */
export function soupPacket(type: string, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(3 + payload.length);
  new DataView(out.buffer).setUint16(0, 1 + payload.length);
  out[2] = type.charCodeAt(0);
  out.set(payload, 3);
  return out;
}

/** Sequenced data packets ('S') for messages, back to back. */
export function soupSequenced(messages: readonly ItchMessage[]): Uint8Array {
  let size = 0;
  for (const m of messages) size += 3 + ITCH_BY_TYPE.get(m.type)!.size;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let o = 0;
  for (const m of messages) {
    const n = encodeMessage(out, o + 3, m, v);
    v.setUint16(o, 1 + n);
    out[o + 2] = 0x53;
    o += 3 + n;
  }
  return out;
}

const ascii = (s: string, n: number, padLeft = false) => {
  const t = padLeft ? s.padStart(n, ' ') : s.padEnd(n, ' ');
  return Uint8Array.from(t.slice(0, n), (c) => c.charCodeAt(0));
};

/** Login Accepted: session (10) and the next sequence number as 20 ASCII digits, space padded. */
export function soupLoginAccepted(session: string, sequence: bigint): Uint8Array {
  const p = new Uint8Array(30);
  p.set(ascii(session, 10), 0);
  p.set(ascii(sequence.toString(), 20, true), 10);
  return soupPacket('A', p);
}

/** Login Request (client to server): username (6), password (10), session (10), sequence (20). */
export function soupLoginRequest(user: string, password: string, session: string, sequence: bigint): Uint8Array {
  const p = new Uint8Array(46);
  p.set(ascii(user, 6), 0);
  p.set(ascii(password, 10), 6);
  p.set(ascii(session, 10), 16);
  p.set(ascii(sequence.toString(), 20, true), 26);
  return soupPacket('L', p);
}
