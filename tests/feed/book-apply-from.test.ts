// OrderBook.applyFrom: a batch read where it lies (a plugin's memory, or any buffer at any offset)
// gives the same BBO changes and trades as the reference book (bench/ref-book.ts), whatever the
// bytes after the batch hold; a batch longer than the book's input is refused.
import { describe, expect, it } from 'vitest';
import { BOOK_INPUT_BYTES, OrderBook } from '../../host/feed/book.js';
import { DirectPlugin, shippedPlugin } from '../../host/feed/direct.js';
import { ItchGenerator, moldPacket } from '../../host/feed/generator.js';
import { RECORD_KIND, type ItchMessage } from '../../host/feed/itch.js';
import { RefBook, type RefEvent } from '../../bench/ref-book.js';
import { S } from '../support/itch.js';

const norm = (e: RefEvent | ReturnType<OrderBook['records']>[number]) =>
  e.kind === 'bbo' ? ['bbo', e.seq, e.stock, e.bid, e.ask] : ['trade', e.seq, e.stock, e.side, e.price, e.shares, e.match, e.ref, e.printable];

describe('OrderBook.applyFrom', () => {
  it('in place in the plugin memory, and from a fixed offset of a buffer holding an older, longer batch after it: the reference book\'s events', () => {
    const config = { orders: 1 << 14, symbols: 64, levels: 64 };
    const inPlace = OrderBook.create(config);
    const fixed = OrderBook.create(config);
    const ref = new RefBook();
    // The bytes after each batch are left from earlier, longer batches: records the book must not apply.
    const at = 40;
    const scratch = new Uint8Array(at + BOOK_INPUT_BYTES + 4096);
    let gotInPlace: unknown[] = [];
    let gotFixed: unknown[] = [];
    let stale = 0;
    const plugin = new DirectPlugin(shippedPlugin('itch'), {
      onRecord: (kind, bytes) => {
        if (kind !== RECORD_KIND.MESSAGES) return;
        inPlace.applyFrom(new Uint8Array(bytes.buffer), bytes.byteOffset, bytes.length);
        for (const r of inPlace.records()) gotInPlace.push(norm(r));
        if (scratch[at + bytes.length] !== 0) stale++;
        scratch.set(bytes, at);
        fixed.applyFrom(scratch, at, bytes.length);
        for (const r of fixed.records()) gotFixed.push(norm(r));
      },
    });
    const gen = new ItchGenerator(99);
    let seq = 1n;
    for (let p = 0; p < 3000; p++) {
      // 1..40 messages a packet: batches of many lengths, so most have older bytes after them.
      const msgs: ItchMessage[] = Array.from({ length: 1 + ((p * 7919) % 40) }, (_, i) => gen.next(34_200_000_000_000n + BigInt(p * 100 + i)));
      const expected: unknown[] = [];
      msgs.forEach((m, i) => {
        for (const e of ref.apply(m, seq + BigInt(i))) expected.push(norm(e));
      });
      plugin.process([{ bytes: moldPacket(S, seq, msgs) }]);
      seq += BigInt(msgs.length);
      expect(gotInPlace, `packet ${p}`).toEqual(expected);
      expect(gotFixed, `packet ${p}`).toEqual(expected);
      gotInPlace = [];
      gotFixed = [];
    }
    expect(stale).toBeGreaterThan(1000);
    for (const book of [inPlace, fixed]) {
      expect(book.orderCount).toBe(ref.orders.size);
      for (const stock of ref.books.keys()) {
        const t = book.top(stock, 1000);
        expect(t.bid.map((l) => [l.price, l.shares, l.orders])).toEqual(ref.depth(stock, 'B'));
        expect(t.ask.map((l) => [l.price, l.shares, l.orders])).toEqual(ref.depth(stock, 'S'));
      }
    }
  });

  it('refuses a batch longer than its input, naming both sizes', () => {
    const book = OrderBook.create({ orders: 16, symbols: 2, levels: 2 });
    const big = new Uint8Array(BOOK_INPUT_BYTES + 64);
    expect(() => book.applyFrom(big, 8, BOOK_INPUT_BYTES + 1)).toThrow(`order book: a ${BOOK_INPUT_BYTES + 1}-byte record batch exceeds the ${BOOK_INPUT_BYTES}-byte input`);
    expect(() => book.apply(big)).toThrow(`a ${BOOK_INPUT_BYTES + 64}-byte record batch`);
  });
});
