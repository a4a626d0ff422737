// No silent loss in the `itch` plugin: every sequence number a MoldUDP64 header announces is either
// delivered once, or an open gap (recorded, re-requestable) until a later copy fills it. Messages a
// datagram lacks (cut short, or a count that lies) are a gap, never "malformed" nor a later
// duplicate; a duplicate is only a message delivered before; a known type with extra bytes is
// decoded by its known part and counted `extended`.
import { describe, expect, it } from 'vitest';
import { moldControl, moldPacket } from '../../host/feed/generator.js';
import { ITCH_BY_TYPE } from '../../host/feed/itch.js';
import { generate, harness, packets, S } from '../support/itch.js';

/** A MoldUDP64 packet whose header says `count` while it holds only `msgs`. */
function lyingPacket(seq: bigint, msgs: ReturnType<typeof generate>, count: number): Uint8Array {
  const b = moldPacket(S, seq, msgs);
  new DataView(b.buffer).setUint16(18, count);
  return b;
}

const gaps = (h: ReturnType<typeof harness>) => h.controls.filter((c) => c.kind === 'gap').map((c) => [Number(c.a), Number(c.b)]);
const seqs = (h: ReturnType<typeof harness>) => h.records.map((r) => Number(r.sequence));

describe('itch plugin: no silent loss', () => {
  it('a count larger than the packet holds opens a gap the next packet fills (nothing thrown away as a duplicate)', () => {
    const h = harness();
    const m = generate(20).slice(12, 18);
    // Packet 1 announces 6 but holds 3 (sequences 1..3); packet 2 holds 4..6, as the server sent them.
    h.plugin.process([{ bytes: lyingPacket(1n, m.slice(0, 3), 6) }, { bytes: moldPacket(S, 4n, m.slice(3)) }]);
    expect(seqs(h)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(gaps(h)).toEqual([[4, 3]]);
    expect(h.c('duplicates')).toBe(0);
    expect(h.c('late')).toBe(3);
    expect(h.c('malformed')).toBe(0);
  });

  it('a datagram cut short opens a gap for the messages it lacks; a later full copy fills exactly those', () => {
    const h = harness();
    const msgs = generate(40).slice(12, 28);
    const full = moldPacket(S, 1n, msgs.slice(0, 8));
    // Cut inside message 5 (as a 2 KiB receive buffer cuts a large datagram).
    let cut = 20;
    for (let i = 0; i < 4; i++) cut += 2 + new DataView(full.buffer).getUint16(cut);
    cut += 10;
    const next = moldPacket(S, 9n, msgs.slice(8));
    h.plugin.process([{ bytes: full.subarray(0, cut) }, { bytes: next }, { bytes: full }]);
    expect(gaps(h)).toEqual([[5, 4]]);
    expect(seqs(h)).toEqual([1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15, 16, 5, 6, 7, 8]);
    expect(h.records.filter((r) => r.late).map((r) => Number(r.sequence))).toEqual([5, 6, 7, 8]);
    expect(h.c('duplicates')).toBe(4); // 1..4 of the copy, delivered before
    expect(h.c('malformed')).toBe(0);
  });

  it('a known type longer than its spec size is decoded by its known part and counted extended', () => {
    const h = harness();
    const [add] = generate(20).slice(12).filter((m) => m.type === 'A');
    const size = ITCH_BY_TYPE.get('A')!.size;
    const base = moldPacket(S, 1n, [add]);
    const ext = new Uint8Array(base.length + 4);
    ext.set(base);
    ext.set([1, 2, 3, 4], base.length);
    new DataView(ext.buffer).setUint16(20, size + 4);
    h.plugin.process([{ bytes: ext }]);
    expect(h.records.map((r) => [r.type, r.values.map((v) => String(v).trim())])).toEqual([['A', add.values.map(String)]]);
    expect(h.c('extended')).toBe(1);
    expect(h.c('malformed')).toBe(0);
  });

  it('joined mid-session: the first sequence seen is the baseline, and earlier copies fill in rather than count as duplicates', () => {
    const h = harness();
    const pk = packets(generate(80), 8);
    h.plugin.process(pk.slice(5).map((p) => ({ bytes: p.bytes })));
    expect(h.controls.find((c) => c.kind === 'session')!.a).toBe(41n);
    expect(h.c('gap_messages')).toBe(0);
    h.plugin.process(pk.slice(0, 5).map((p) => ({ bytes: p.bytes })));
    expect(h.c('duplicates')).toBe(0);
    expect(new Set(seqs(h)).size).toBe(80);
  });

  it('received + gaps + duplicates account for every sequence number sent, under cuts, lies, drops and repeats', () => {
    const h = harness();
    const msgs = generate(5000, 11);
    const pk = packets(msgs, 10);
    let rnd = 12345;
    const rand = () => ((rnd = (rnd * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const sent: Uint8Array[] = [];
    for (const p of pk) {
      const r = rand();
      if (r < 0.05) continue; // dropped
      if (r < 0.1) sent.push(p.bytes.subarray(0, 20 + Math.floor(rand() * (p.bytes.length - 20)))); // cut
      else if (r < 0.15) sent.push(lyingPacket(p.seq, msgs.slice(Number(p.seq) - 1, Number(p.seq) - 1 + Math.floor(rand() * p.count)), p.count));
      else sent.push(p.bytes);
      if (rand() < 0.05) sent.push(p.bytes); // repeated
    }
    sent.push(moldControl(S, 5001n, 0));
    h.plugin.process(sent.map((bytes) => ({ bytes })));
    const delivered = new Set(seqs(h));
    expect(delivered.size).toBe(h.records.length); // nothing twice
    // Every sequence not delivered lies in a reported gap, and gaps hold nothing delivered but what filled them.
    const inGap = new Set<number>();
    for (const [a, n] of gaps(h)) for (let q = a; q < a + n; q++) inGap.add(q);
    for (let q = 1; q <= 5000; q++) if (!delivered.has(q)) expect(inGap.has(q), `sequence ${q} neither delivered nor in a gap`).toBe(true);
    const late = h.records.filter((r) => r.late).length;
    expect(h.records.length + (h.c('gap_messages') - late)).toBe(5000);
    // Now the lost ones come again (a re-request answer): every sequence is delivered, exactly once.
    const again = pk.filter((p) => [...Array(p.count).keys()].some((i) => !delivered.has(Number(p.seq) + i)));
    h.plugin.process(again.map((p) => ({ bytes: p.bytes })));
    expect(new Set(seqs(h)).size).toBe(5000);
    expect(h.records.length).toBe(5000);
    expect(h.c('gap_messages')).toBe(h.c('late'));
  });
});
