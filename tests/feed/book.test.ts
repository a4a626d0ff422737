// The WASM order book (feed/book/book.ts) against the reference book (bench/ref-book.ts:
// plain Maps from the spec, no shared code) on seeded sessions of more than a million messages,
// decoded by the `itch` plugin: after every message the BBO change and trade each produces are the
// same, every 50,000 messages every level of every stock is the same, and at the end every order
// is the same and the book equals the generator's own (a known book). Replaces of partly executed
// orders come from the generator; deletes, executions and replaces of unknown references are
// mixed in and must be counted, not crash nor change the book.
import { describe, expect, it } from 'vitest';
import { bboLine, OrderBook, price4, type BookView } from '../../host/feed/book.js';
import { DirectPlugin, shippedPlugin } from '../../host/feed/direct.js';
import { ItchGenerator, moldPacket } from '../../host/feed/generator.js';
import { RECORD_KIND, type ItchMessage } from '../../host/feed/itch.js';
import { RefBook, type RefEvent } from '../../bench/ref-book.js';
import { S } from '../support/itch.js';

/** Events as comparable plain values. */
const norm = (e: RefEvent | ReturnType<OrderBook['records']>[number]) =>
  e.kind === 'bbo' ? ['bbo', e.seq, e.stock, e.bid, e.ask] : ['trade', e.seq, e.stock, e.side, e.price, e.shares, e.match, e.ref, e.printable];

/** The cursor's current record as the same plain values. */
const normView = (v: BookView) =>
  v.kind === 'bbo'
    ? ['bbo', BigInt(v.seq), v.stock, v.bidShares ? [v.bidPrice, v.bidShares] : null, v.askShares ? [v.askPrice, v.askShares] : null]
    : ['trade', BigInt(v.seq), v.stock, v.side, v.price, v.shares, v.match, v.ref, v.printable];

function session(seed: number, total: number, check: (book: OrderBook, ref: RefBook, gen: ItchGenerator, sent: number) => void) {
  const gen = new ItchGenerator(seed);
  const ref = new RefBook();
  const book = OrderBook.create({ orders: 1 << 16, symbols: 64, levels: 64 });
  let wasm: unknown[] = [];
  let viewed: unknown[] = [];
  const plugin = new DirectPlugin(shippedPlugin('itch'), {
    onRecord: (kind, bytes) => {
      if (kind !== RECORD_KIND.MESSAGES) return;
      book.apply(bytes);
      for (const r of book.records()) wasm.push(norm(r));
      // The zero-allocation cursor reads the same records.
      const v = book.view();
      while (v.next()) viewed.push(normView(v));
    },
  });
  let seq = 1n;
  let unknown = 0;
  let executedThenReplaced = 0;
  const executed = new Set<number>();
  for (let sent = 0; sent < total; ) {
    const msgs: ItchMessage[] = [];
    for (let i = 0; i < 8; i++) {
      let m = gen.next(34_200_000_000_000n + BigInt(sent));
      if (m.type === 'E' || m.type === 'C') executed.add(Number(m.values[0]));
      if (m.type === 'U' && executed.has(Number(m.values[0]))) executedThenReplaced++;
      // Now and then a message naming an order nobody added (a book joined late, a lost add).
      if (sent % 997 === 500) {
        const t = 'DEXU'[unknown++ % 4];
        const ghost = 1_000_000_000 + sent;
        const values = t === 'D' ? [ghost] : t === 'E' ? [ghost, 100, 1] : t === 'X' ? [ghost, 100] : [ghost, ghost + 1, 100, 10000];
        msgs.push({ type: t, locate: 1, tracking: 0, timestamp: 0n, values });
        sent++;
      }
      msgs.push(m);
      sent++;
    }
    const expected: unknown[] = [];
    msgs.forEach((m, i) => {
      for (const e of ref.apply(m, seq + BigInt(i))) expected.push(norm(e));
    });
    plugin.process([{ bytes: moldPacket(S, seq, msgs) }]);
    seq += BigInt(msgs.length);
    expect(wasm).toEqual(expected);
    expect(viewed).toEqual(expected);
    wasm = [];
    viewed = [];
    check(book, ref, gen, sent);
  }
  return { book, ref, gen, unknown, executedThenReplaced };
}

function sameLevels(book: OrderBook, ref: RefBook) {
  for (const stock of ref.books.keys()) {
    const t = book.top(stock, 1000);
    expect(t.bid.map((l) => [l.price, l.shares, l.orders]), `${stock} bids`).toEqual(ref.depth(stock, 'B'));
    expect(t.ask.map((l) => [l.price, l.shares, l.orders]), `${stock} asks`).toEqual(ref.depth(stock, 'S'));
  }
}

describe('order book (WASM) against the reference book', () => {
  it('1.2 M messages: same BBO changes and trades after every message, same levels, same orders, the generator\'s book', () => {
    let nextFull = 50_000;
    const { book, ref, gen, unknown, executedThenReplaced } = session(2026, 1_200_000, (book, ref, _gen, sent) => {
      if (sent >= nextFull) {
        sameLevels(book, ref);
        nextFull += 50_000;
      }
    });
    sameLevels(book, ref);
    expect(book.orderCount).toBe(ref.orders.size);
    for (const [r, o] of ref.orders) expect(book.order(r)).toEqual({ ref: r, stock: o.stock, side: o.side, shares: o.shares, price: o.price });
    // A known book: the generator's live orders are the book's.
    const known = gen.book();
    expect(known.length).toBe(book.orderCount);
    for (const o of known) expect(book.order(o.ref)).toEqual({ ref: BigInt(o.ref), stock: o.stock, side: o.side, shares: o.shares, price: o.price });
    const c = book.counters();
    expect(c.unknown_ref).toBe(ref.unknownRef);
    expect(c.unknown_ref).toBe(unknown);
    expect([c.orders_full, c.levels_full, c.symbols_full, c.out_full, c.duplicate_ref]).toEqual([0, 0, 0, 0, 0]);
    expect(executedThenReplaced).toBeGreaterThan(1000);
    // Never crossed: every stock's best bid is below its best ask.
    for (const s of book.symbols()) {
      const t = book.top(s, 1);
      if (t.bid.length && t.ask.length) expect(t.bid[0].price).toBeLessThan(t.ask[0].price);
    }
  }, 600_000);

  it('a full book is counted and refuses the order, never corrupts: the rest stays equal to a reference that skipped the same orders', () => {
    const book = OrderBook.create({ orders: 4, symbols: 2, levels: 2 });
    const rec = (type: string, locate: number, fields: (number | bigint | string)[]) => ({ type, locate, tracking: 0, timestamp: 0n, values: fields });
    const plugin = new DirectPlugin(shippedPlugin('itch'), { onRecord: (k, b) => k === RECORD_KIND.MESSAGES && book.apply(b) });
    const msgs = [
      rec('A', 1, [1, 'B', 100, 'AAPL', 1000000]),
      rec('A', 1, [2, 'B', 100, 'AAPL', 1000100]),
      rec('A', 1, [3, 'B', 100, 'AAPL', 1000200]), // a third bid level: levels full
      rec('A', 1, [4, 'S', 100, 'AAPL', 1000300]),
      rec('A', 1, [5, 'S', 200, 'AAPL', 1000300]),
      rec('A', 1, [6, 'S', 100, 'AAPL', 1000300]), // a fifth order: orders full
      rec('A', 2, [7, 'B', 100, 'MSFT', 2000000]), // MSFT gets a symbol slot, its order finds the orders full too
      rec('A', 3, [8, 'B', 100, 'NVDA', 3000000]), // a third stock: symbols full
      rec('D', 1, [3]), // the refused order is unknown
    ];
    plugin.process([{ bytes: moldPacket(S, 1n, msgs) }]);
    const c = book.counters();
    expect([c.levels_full, c.orders_full, c.symbols_full, c.unknown_ref]).toEqual([1, 2, 1, 1]);
    expect(book.top('MSFT', 5)).toEqual({ bid: [], ask: [] });
    expect(book.top('AAPL', 5)).toEqual({
      bid: [{ price: 1000100, shares: 100, orders: 1 }, { price: 1000000, shares: 100, orders: 1 }],
      ask: [{ price: 1000300, shares: 300, orders: 2 }],
    });
    expect(book.order(6)).toBeNull();
    expect(book.order(3)).toBeNull();
  });

  it('orders whose references share a probe run (and wrap the table) are all found after every add and delete, and keep their levels', () => {
    // 8 orders: 16 slots, home slot = the reference's low 4 bits. References 16k + 3, 16k + 4 and
    // 16k + 15 pile into three runs that meet and wrap past the table's end, so deletes must move
    // displaced orders back; the book must still find every live order and no deleted one, and an
    // order moved back must still reach its own stock's and side's levels (two stocks, both sides).
    const book = OrderBook.create({ orders: 8, symbols: 2, levels: 64 });
    const plugin = new DirectPlugin(shippedPlugin('itch'), { onRecord: (k, b) => k === RECORD_KIND.MESSAGES && book.apply(b) });
    const pool = Array.from({ length: 24 }, (_, i) => 16 * (1 + (i >> 2) * 3 + (i & 3)) + [3, 4, 15][i % 3]);
    const live = new Map<number, { shares: number; stock: string; side: 'B' | 'S'; price: number }>();
    let x = 12345;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % n;
    // Expected levels of a stock's side from the live orders, best first: [price, shares, orders].
    const levels = (stock: string, side: 'B' | 'S') => {
      const m = new Map<number, [number, number, number]>();
      for (const o of live.values()) {
        if (o.stock !== stock || o.side !== side) continue;
        const l = m.get(o.price) ?? [o.price, 0, 0];
        l[1] += o.shares;
        l[2]++;
        m.set(o.price, l);
      }
      return [...m.values()].sort((a, b) => (side === 'B' ? b[0] - a[0] : a[0] - b[0]));
    };
    let seq = 1n;
    for (let step = 0; step < 1500; step++) {
      const ref = pool[rnd(pool.length)];
      const stock = rnd(2) ? 'AAPL' : 'MSFT';
      const side = rnd(2) ? 'B' : 'S';
      const msg = live.has(ref) || live.size === 8
        ? { type: 'D', locate: 1, tracking: 0, timestamp: 0n, values: [live.has(ref) ? ref : [...live.keys()][rnd(live.size)]] }
        : { type: 'A', locate: stock === 'AAPL' ? 1 : 2, tracking: 0, timestamp: 0n, values: [ref, side, 1 + rnd(1000), stock, (side === 'B' ? 1_000_000 : 1_100_000) + 100 * rnd(20)] };
      const r = Number(msg.values[0]);
      if (msg.type === 'A') live.set(r, { shares: Number(msg.values[2]), stock, side, price: Number(msg.values[4]) });
      else live.delete(r);
      plugin.process([{ bytes: moldPacket(S, seq, [msg]) }]);
      seq++;
      for (const p of pool) {
        const o = book.order(p);
        expect(o && o.shares, `order ${p} after step ${step}`).toBe(live.get(p)?.shares ?? null);
      }
      expect(book.orderCount).toBe(live.size);
      for (const s of ['AAPL', 'MSFT'])
        for (const sd of ['B', 'S'] as const) {
          const t = book.top(s, 64);
          expect((sd === 'B' ? t.bid : t.ask).map((l) => [l.price, l.shares, l.orders]), `${s} ${sd} levels after step ${step}`).toEqual(levels(s, sd));
        }
    }
    expect(book.counters().unknown_ref).toBe(0);
  });

  it('writes BBO changes as the --bbo jsonl line: prices with 4 decimals, null for an empty side', () => {
    expect(price4(3469700)).toBe('346.9700');
    expect(price4(5)).toBe('0.0005');
    expect(bboLine({ kind: 'bbo', seq: 42n, stock: 'AAPL', bid: [3469700, 4500], ask: [3469800, 1300] })).toBe('{"seq":42,"stock":"AAPL","bid":["346.9700",4500],"ask":["346.9800",1300]}');
    expect(bboLine({ kind: 'bbo', seq: 7n, stock: 'MSFT', bid: null, ask: [10000, 1] })).toBe('{"seq":7,"stock":"MSFT","bid":null,"ask":["1.0000",1]}');
  });
});
