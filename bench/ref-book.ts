// The reference order book: a deliberately simple ITCH 5.0 order book written from the spec
// (docs/feed.md, "Order book"), with plain Maps and no code in common with
// the WASM book: what the tests check the WASM book against, message by message, and the
// `js-book` peer of the feed benchmark.
//
// It works on the generator's message objects (ItchMessage), not on decoded records, so that the
// plugin's decoding is checked too.
import type { ItchMessage } from '../host/feed/itch.js';

export type RefQuote = [price: number, shares: number] | null;
export type RefEvent =
  | { kind: 'bbo'; seq: bigint; stock: string; bid: RefQuote; ask: RefQuote }
  | { kind: 'trade'; seq: bigint; stock: string; side: string; price: number; shares: number; match: bigint; ref: bigint; printable: boolean };

interface Order {
  stock: string;
  side: string;
  shares: number;
  price: number;
}
interface Level {
  shares: number;
  orders: number;
}

export class RefBook {
  readonly orders = new Map<bigint, Order>();
  /** stock → side ('B' | 'S') → price → level */
  readonly books = new Map<string, { B: Map<number, Level>; S: Map<number, Level> }>();
  readonly names = new Map<number, string>();
  unknownRef = 0;
  duplicateRef = 0;

  private book(stock: string) {
    let b = this.books.get(stock);
    if (!b) this.books.set(stock, (b = { B: new Map(), S: new Map() }));
    return b;
  }

  /** The best [price, shares] of a side, or null. */
  best(stock: string, side: 'B' | 'S'): RefQuote {
    const levels = this.books.get(stock)?.[side];
    if (!levels || levels.size === 0) return null;
    let best = -1;
    for (const p of levels.keys()) if (best < 0 || (side === 'B' ? p > best : p < best)) best = p;
    return [best, levels.get(best)!.shares];
  }

  /** All levels of a side, best first: [price, shares, orders]. */
  depth(stock: string, side: 'B' | 'S'): [number, number, number][] {
    const levels = this.books.get(stock)?.[side] ?? new Map<number, Level>();
    return [...levels.entries()].sort((a, b) => (side === 'B' ? b[0] - a[0] : a[0] - b[0])).map(([p, l]) => [p, l.shares, l.orders]);
  }

  private add(ref: bigint, o: Order): void {
    if (this.orders.has(ref)) {
      this.duplicateRef++;
      return;
    }
    this.orders.set(ref, o);
    const side = this.book(o.stock)[o.side as 'B' | 'S'];
    const l = side.get(o.price) ?? { shares: 0, orders: 0 };
    l.shares += o.shares;
    l.orders += 1;
    side.set(o.price, l);
  }

  /** Takes `n` shares (all when undefined) off an order; returns how many were taken. */
  private take(ref: bigint, o: Order, n?: number): number {
    const k = n === undefined ? o.shares : Math.min(n, o.shares);
    const side = this.book(o.stock)[o.side as 'B' | 'S'];
    const l = side.get(o.price)!;
    l.shares -= k;
    o.shares -= k;
    if (o.shares === 0) {
      this.orders.delete(ref);
      l.orders -= 1;
      if (l.orders === 0) side.delete(o.price);
    }
    return k;
  }

  /** Applies one message (sequence `seq`); returns its trade, then its BBO change. */
  apply(m: ItchMessage, seq: bigint): RefEvent[] {
    const v = m.values;
    const stockOf = (s: unknown) => this.names.get(m.locate) ?? String(s).trim();
    if (m.type === 'R') {
      if (!this.names.has(m.locate)) this.names.set(m.locate, String(v[0]).trim());
      return [];
    }
    if (m.type === 'P') {
      const stock = stockOf(v[3]);
      if (!this.names.has(m.locate)) this.names.set(m.locate, stock);
      return [{ kind: 'trade', seq, stock, side: String(v[1]), price: Number(v[4]), shares: Number(v[2]), match: BigInt(v[5]), ref: BigInt(v[0]), printable: true }];
    }
    if (!'AFECXDU'.includes(m.type)) return [];
    let stock: string;
    let order: Order | undefined;
    const ref = BigInt(v[0]);
    if (m.type === 'A' || m.type === 'F') {
      stock = stockOf(v[3]);
      if (!this.names.has(m.locate)) this.names.set(m.locate, stock);
    } else {
      order = this.orders.get(ref);
      if (!order) {
        this.unknownRef++;
        return [];
      }
      stock = order.stock;
    }
    const before = [this.best(stock, 'B'), this.best(stock, 'S')];
    const events: RefEvent[] = [];
    switch (m.type) {
      case 'A':
      case 'F':
        this.add(ref, { stock, side: String(v[1]), shares: Number(v[2]), price: Number(v[4]) });
        break;
      case 'E':
      case 'C': {
        const o = order!;
        const price = m.type === 'C' ? Number(v[4]) : o.price;
        const side = o.side;
        const k = this.take(ref, o, Number(v[1]));
        events.push({ kind: 'trade', seq, stock, side, price, shares: k, match: BigInt(v[2]), ref, printable: m.type === 'E' || v[3] !== 'N' });
        break;
      }
      case 'X':
        this.take(ref, order!, Number(v[1]));
        break;
      case 'D':
        this.take(ref, order!);
        break;
      default: {
        const o = order!;
        const side = o.side;
        this.take(ref, o);
        this.add(BigInt(v[1]), { stock, side, shares: Number(v[2]), price: Number(v[3]) });
      }
    }
    const after = [this.best(stock, 'B'), this.best(stock, 'S')];
    if (JSON.stringify(before) !== JSON.stringify(after)) events.push({ kind: 'bbo', seq, stock, bid: after[0], ask: after[1] });
    return events;
  }
}
