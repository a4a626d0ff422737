// Per-message output and the order book from the outside: a feed-sim capture replayed through the
// pcap backend by `wirewasm feed --messages FILE --bbo FILE --book AAPL,MSFT` gives one JSON line
// per message with the spec's field names and the generated values (prices as decimal strings with
// 4 places, symbols trimmed, session and sequence, receive time), and one BBO line per change of a
// listed stock exactly as the reference book (bench/ref-book.ts) sees it. The API gives
// the same messages as typed objects and zero-copy views, and the same BBO changes as records.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openFeed, runFeedClient } from '../../host/feed/client.js';
import { MessageView } from '../../host/feed/messages.js';
import { OrderBook } from '../../host/feed/book.js';
import { ItchGenerator } from '../../host/feed/generator.js';
import { ITCH_BY_TYPE, type ItchMessage } from '../../host/feed/itch.js';
import { runFeedSim, type FeedSimResult } from '../../host/feed/sim.js';
import { packageRoot } from '../../host/paths.js';
import { freeUdpPort } from '../support/ports.js';
import { RefBook, type RefEvent } from '../../bench/ref-book.js';

const cli = path.join(packageRoot, 'dist', 'host', 'cli', 'main.js');
const SEED = 3;
let dir = '';
let capture = '';
let port = 0;
let sim: FeedSimResult;
let generated: ItchMessage[] = [];

/** Written here from the example, not with the code under test. */
const money = (p: number) => (p / 10000).toFixed(4);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wwfeed-out-'));
  capture = path.join(dir, 'session.pcapng');
  port = await freeUdpPort();
  // Nobody listens: the capture file is what counts.
  sim = await runFeedSim({ transport: 'udp', host: '127.0.0.1', port, rate: 200_000, duration: 0.2, seed: SEED, write: capture });
  const g = new ItchGenerator(SEED);
  generated = Array.from({ length: sim.messages_sent }, () => g.next(0n));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('feed --messages / --bbo and the streaming API', () => {
  it('--messages: one JSON object per message with spec field names and the generated values', () => {
    const out = path.join(dir, 'messages.jsonl');
    const bbo = path.join(dir, 'bbo.jsonl');
    const report = JSON.parse(
      execFileSync(process.execPath, [cli, 'feed', '--backend', 'pcap', '--file', capture, '--transport', 'udp', '--port', String(port), '--messages', out, '--bbo', bbo, '--book', 'AAPL,MSFT', '--json'], { encoding: 'utf8' }),
    );
    expect(report.messages).toBe(sim.messages_sent);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(sim.messages_sent);
    lines.forEach((l, i) => {
      const m = generated[i];
      const spec = ITCH_BY_TYPE.get(m.type)!;
      expect([l.type, l.name, l.session, l.sequence, l.locate, l.tracking]).toEqual([m.type, spec.name, 'WIREWASM01', i + 1, m.locate, m.tracking]);
      expect(l.received_ns).toBeGreaterThan(1.6e18);
      spec.fields.forEach((f, k) => {
        const want = f.kind === 'price4' ? money(Number(m.values[k])) : f.kind === 'alpha' ? (f.name === 'stock' ? String(m.values[k]).trim() : String(m.values[k]).padEnd(f.size)) : Number(m.values[k]);
        if (f.kind !== 'price8') expect(l[f.name], `${m.type} ${f.name} at ${i + 1}`).toEqual(want);
      });
    });
    // --bbo: the reference book's changes for AAPL and MSFT, line for line.
    const ref = new RefBook();
    const want: string[] = [];
    generated.forEach((m, i) => {
      for (const e of ref.apply(m, BigInt(i + 1)))
        if (e.kind === 'bbo' && (e.stock === 'AAPL' || e.stock === 'MSFT'))
          want.push(JSON.stringify({ seq: i + 1, stock: e.stock, bid: e.bid && [money(e.bid[0]), e.bid[1]], ask: e.ask && [money(e.ask[0]), e.ask[1]] }));
    });
    expect(want.length).toBeGreaterThan(100);
    expect(readFileSync(bbo, 'utf8').trimEnd().split('\n')).toEqual(want);
  });

  it('onMessageView: every message in order through one cursor, no copy of any batch', async () => {
    const cursors = new Set<MessageView>();
    const copies = vi.spyOn(MessageView.prototype, 'copy');
    let n = 0;
    let batches = 0;
    try {
      const r = await runFeedClient({
        backend: 'pcap', file: capture, transport: 'udp', host: '127.0.0.1', port,
        onMessageView: (v) => {
          cursors.add(v);
          batches++;
          while (v.next()) {
            const m = generated[n++];
            expect([v.type, v.sequenceNumber, v.session.trimEnd(), v.locate, v.tracking], `message ${n}`).toEqual([m.type, n, 'WIREWASM01', m.locate, m.tracking]);
          }
        },
      });
      expect(r.messages).toBe(sim.messages_sent);
      expect(copies).not.toHaveBeenCalled();
    } finally {
      copies.mockRestore();
    }
    expect(n).toBe(sim.messages_sent);
    expect(batches).toBeGreaterThan(10);
    expect(cursors.size).toBe(1);
  });

  it('openFeed: typed messages, zero-copy views and book records of the same session', async () => {
    const feed = openFeed({ backend: 'pcap', file: capture, transport: 'udp', host: '127.0.0.1', port, book: {} });
    const views = feed.views();
    const records = feed.bookRecords();
    const unread = feed.messages(); // a reader that never reads must not take batches from the others
    let n = 0;
    let adds = 0;
    for await (const batch of feed.messages())
      for (const m of batch) {
        expect(m.sequence).toBe(BigInt(++n));
        if (m.type === 'A') {
          adds++;
          expect(m.price).toBe(generated[n - 1].values[4]); // typed: `price` exists on an add order
        }
      }
    expect(n).toBe(sim.messages_sent);
    expect(adds).toBe(generated.filter((m) => m.type === 'A').length);
    // Each stream is a reader of its own: the views read after messages() still see every message.
    let viewed = 0;
    for await (const v of views) while (v.next()) expect(v.sequence).toBe(BigInt(++viewed));
    expect(viewed).toBe(sim.messages_sent);
    void unread;
    const ref = new RefBook();
    let wantBbo = 0;
    generated.forEach((m, i) => (wantBbo += ref.apply(m, BigInt(i + 1)).filter((e: RefEvent) => e.kind === 'bbo').length));
    let bbo = 0;
    for await (const r of records) bbo += r.filter((x) => x.kind === 'bbo').length;
    expect(bbo).toBe(wantBbo);
    expect((await feed.done).messages).toBe(sim.messages_sent);
  });

  it('onBookView: every BBO change, read in place, and no record objects while nobody reads bookRecords()', async () => {
    const ref = new RefBook();
    const want: string[] = [];
    generated.forEach((m, i) => {
      for (const e of ref.apply(m, BigInt(i + 1))) if (e.kind === 'bbo') want.push(JSON.stringify([i + 1, e.stock, e.bid, e.ask]));
    });
    const seen: string[] = [];
    const made = vi.spyOn(OrderBook.prototype, 'records');
    try {
      const feed = openFeed({
        backend: 'pcap', file: capture, transport: 'udp', host: '127.0.0.1', port, book: {},
        onBookView: (v) => {
          while (v.next())
            if (v.kind === 'bbo') seen.push(JSON.stringify([v.seq, v.stock, v.bidShares ? [v.bidPrice, v.bidShares] : null, v.askShares ? [v.askPrice, v.askShares] : null]));
        },
      });
      expect((await feed.done).messages).toBe(sim.messages_sent);
      expect(made).not.toHaveBeenCalled();
    } finally {
      made.mockRestore();
    }
    expect(want.length).toBeGreaterThan(100);
    expect(seen).toEqual(want);
  });

  it('onMessageView: every message in order through one cursor, and no batch copies while nobody reads messages()', async () => {
    const views = new Set<MessageView>();
    const seen: string[] = [];
    const copied = vi.spyOn(MessageView.prototype, 'copy');
    try {
      const feed = openFeed({
        backend: 'pcap', file: capture, transport: 'udp', host: '127.0.0.1', port,
        onMessageView: (v) => {
          views.add(v);
          const first = seen.length;
          while (v.next()) seen.push(`${v.type}${v.sequenceNumber}`);
          // rewind() reads the same batch again from its first record.
          const again: string[] = [];
          for (v.rewind(); v.next(); ) again.push(`${v.type}${v.sequenceNumber}`);
          expect(again).toEqual(seen.slice(first));
        },
      });
      expect((await feed.done).messages).toBe(sim.messages_sent);
      expect(copied).not.toHaveBeenCalled();
    } finally {
      copied.mockRestore();
    }
    expect(views.size).toBe(1);
    expect(seen).toEqual(generated.map((m, i) => `${m.type}${i + 1}`));
  });
});
