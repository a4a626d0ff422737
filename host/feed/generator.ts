/**
 * A deterministic ITCH 5.0 market: the same seed gives the same messages, field for field (only the
 * timestamps, which carry the send time, differ between runs). First the system events and the
 * stock directory, then a mix of order-book events with consistent order references: executions,
 * cancels, deletes and replaces only name orders that are live, shares never go below zero, a
 * replaced or fully executed order is gone.
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

interface Order {
  ref: number;
  locate: number;
  side: 'B' | 'S';
  shares: number;
  price: number;
}

/** Weights of the order-book mix, in percent. */
const MIX: [string, number][] = [
  ['A', 34], ['F', 4], ['E', 13], ['C', 3], ['X', 10], ['D', 14], ['U', 10], ['P', 5], ['Q', 1], ['I', 2], ['N', 1], ['B', 1], ['H', 1], ['Y', 1],
];

export class ItchGenerator {
  private readonly rand: () => number;
  private readonly stocks: { symbol: string; price: number }[];
  private readonly live: Order[] = [];
  private readonly preamble: ItchMessage[] = [];
  private readonly mixTable: string[] = [];
  private nextRef = 1;
  private nextMatch = 1;
  private tracking = 0;
  /** Messages produced so far. */
  produced = 0;

  constructor(seed = 1, stockCount = 8) {
    this.rand = prng(seed);
    this.stocks = SYMBOLS.slice(0, Math.max(1, Math.min(stockCount, SYMBOLS.length))).map((symbol) => ({ symbol, price: (10 + Math.floor(this.rand() * 490)) * 10000 }));
    for (const [t, w] of MIX) for (let i = 0; i < w; i++) this.mixTable.push(t);
    const sys = (code: string): ItchMessage => ({ type: 'S', locate: 0, tracking: 0, timestamp: 0n, values: [code] });
    this.preamble.push(sys('O'), sys('S'));
    this.stocks.forEach((s, i) => {
      this.preamble.push({
        type: 'R', locate: i + 1, tracking: 0, timestamp: 0n,
        values: [s.symbol, 'Q', 'N', 100, 'N', 'C', 'Z ', 'P', 'N', 'N', '1', 'N', 0, 'N'],
      });
    });
    this.preamble.push(sys('Q'));
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pickLive(): [Order, number] {
    const i = this.int(this.live.length);
    return [this.live[i], i];
  }

  private removeLive(i: number): void {
    const last = this.live.pop()!;
    if (i < this.live.length) this.live[i] = last;
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
    if (this.live.length < 8 && 'ECXDU'.includes(type)) type = 'A';
    const head = (locate: number) => ({ locate, tracking: this.tracking, timestamp });
    const stockIdx = this.int(this.stocks.length);
    const stock = this.stocks[stockIdx];
    switch (type) {
      case 'A':
      case 'F': {
        stock.price = Math.max(10000, stock.price + (this.int(21) - 10) * 100);
        const o: Order = { ref: this.nextRef++, locate: stockIdx + 1, side: this.rand() < 0.5 ? 'B' : 'S', shares: (1 + this.int(50)) * 100, price: stock.price + (this.int(11) - 5) * 100 };
        this.live.push(o);
        const values = [o.ref, o.side, o.shares, stock.symbol, o.price];
        if (type === 'F') values.push(MPIDS[this.int(MPIDS.length)]);
        return { type, ...head(o.locate), values };
      }
      case 'E':
      case 'C': {
        const [o, i] = this.pickLive();
        const n = Math.min(o.shares, (1 + this.int(5)) * 100);
        o.shares -= n;
        if (o.shares === 0) this.removeLive(i);
        const values: (number | string)[] = [o.ref, n, this.nextMatch++];
        if (type === 'C') values.push(this.rand() < 0.9 ? 'Y' : 'N', o.price + (this.int(3) - 1) * 100);
        return { type, ...head(o.locate), values };
      }
      case 'X': {
        const [o, i] = this.pickLive();
        const n = Math.max(1, Math.min(o.shares, (1 + this.int(3)) * 100));
        o.shares -= n;
        if (o.shares === 0) this.removeLive(i);
        return { type, ...head(o.locate), values: [o.ref, n] };
      }
      case 'D': {
        const [o, i] = this.pickLive();
        this.removeLive(i);
        return { type, ...head(o.locate), values: [o.ref] };
      }
      case 'U': {
        const [o] = this.pickLive();
        const old = o.ref;
        o.ref = this.nextRef++;
        o.shares = (1 + this.int(50)) * 100;
        o.price += (this.int(11) - 5) * 100;
        return { type, ...head(o.locate), values: [old, o.ref, o.shares, o.price] };
      }
      case 'P':
        return { type, ...head(stockIdx + 1), values: [0, this.rand() < 0.5 ? 'B' : 'S', (1 + this.int(10)) * 100, stock.symbol, stock.price, this.nextMatch++] };
      case 'Q':
        return { type, ...head(stockIdx + 1), values: [BigInt((1 + this.int(1000)) * 100), stock.symbol, stock.price, this.nextMatch++, 'O'] };
      case 'I':
        return { type, ...head(stockIdx + 1), values: [BigInt(this.int(100000)), BigInt(this.int(10000)), 'B', stock.symbol, stock.price + 500, stock.price - 500, stock.price, 'O', ' '] };
      case 'N':
        return { type, ...head(stockIdx + 1), values: [stock.symbol, this.rand() < 0.5 ? 'B' : 'S'] };
      case 'B':
        return { type, ...head(stockIdx + 1), values: [Math.max(1, this.nextMatch - 1 - this.int(10))] };
      case 'H':
        return { type, ...head(stockIdx + 1), values: [stock.symbol, 'T', ' ', '    '] };
      default: // 'Y'
        return { type: 'Y', ...head(stockIdx + 1), values: [stock.symbol, '0'] };
    }
  }

  /** Orders currently live (for tests of consistency). */
  get liveOrders(): number {
    return this.live.length;
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
