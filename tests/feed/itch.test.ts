// The `itch` and `soupbintcp-itch` plugins (dist/plugins/*.wasm, built from plugins/) run on their
// own over byte arrays: every message type decodes to the fields it was encoded with, sequencing
// finds exactly the gaps, duplicates and late messages we made, malformed input is counted and
// skipped without reading past the datagram, and SoupBinTCP survives any cut of the stream.
import { describe, expect, it } from 'vitest';
import { DirectPlugin, shippedPlugin } from '../../host/feed/direct.js';
import { ItchGenerator, moldControl, moldPacket, sessionName, soupLoginAccepted, soupPacket, soupSequenced } from '../../host/feed/generator.js';
import {
  canonicalRecord, COUNTER_BY_TYPE, COUNTER_LATENCY, forEachRecord, histogramQuantile, ITCH_COUNTERS as C, ITCH_MESSAGES,
  readControl, readRecord, RECORD_KIND, StreamDigest, type ControlRecord, type DecodedMessage, type ItchMessage,
} from '../../host/feed/itch.js';

function harness(name = 'itch') {
  const records: DecodedMessage[] = [];
  const controls: ControlRecord[] = [];
  const digest = new StreamDigest();
  const plugin = new DirectPlugin(shippedPlugin(name), {
    onRecord: (kind, bytes) => {
      if (kind === RECORD_KIND.MESSAGES) {
        digest.addBatch(bytes);
        forEachRecord(bytes, (off) => records.push(readRecord(bytes, off)));
      } else controls.push(readControl(kind, bytes.slice()));
    },
  });
  return { plugin, records, controls, digest, c: (k: keyof typeof C) => plugin.counters[C[k]] };
}

const S = sessionName('WWTEST0001');

/** Deterministic values for every field of a type (alpha: letters; ints: the full width). */
function sample(spec: (typeof ITCH_MESSAGES)[number], k: number): ItchMessage {
  const values = spec.fields.map((f, i) => {
    if (f.kind === 'alpha') return String.fromCharCode(65 + ((k + i) % 26)).repeat(f.size);
    if (f.size === 8) return 0x0102030405060708n * BigInt(i + 1) + BigInt(k);
    return (0x9abcdef1 * (i + 1) + k) % 2 ** (8 * f.size);
  });
  return { type: spec.type, locate: 0x1234 + k, tracking: 0xbeef - k, timestamp: 0x123456789abn + BigInt(k), values };
}

function generate(n: number, seed = 7): ItchMessage[] {
  const g = new ItchGenerator(seed);
  return Array.from({ length: n }, (_, i) => g.next(34_200_000_000_000n + BigInt(i) * 1000n));
}

function packets(msgs: ItchMessage[], perPacket: number, first = 1n) {
  const out: { bytes: Uint8Array; seq: bigint; count: number }[] = [];
  for (let i = 0; i < msgs.length; i += perPacket) {
    const chunk = msgs.slice(i, i + perPacket);
    out.push({ bytes: moldPacket(S, first + BigInt(i), chunk), seq: first + BigInt(i), count: chunk.length });
  }
  return out;
}

describe('itch plugin (MoldUDP64 + ITCH 5.0)', () => {
  it('decodes every ITCH 5.0 message type to the fields it was encoded with', () => {
    const h = harness();
    const msgs = ITCH_MESSAGES.map((spec, k) => sample(spec, k));
    expect(msgs.length).toBe(23);
    h.plugin.process([{ bytes: moldPacket(S, 1n, msgs) }]);
    expect(h.records.length).toBe(msgs.length);
    h.records.forEach((r, i) => {
      const m = msgs[i];
      expect({ type: r.type, locate: r.locate, tracking: r.tracking, timestamp: r.timestamp, sequence: r.sequence }).toEqual({
        type: m.type, locate: m.locate, tracking: m.tracking, timestamp: m.timestamp, sequence: BigInt(i + 1),
      });
      expect(r.values.map(String)).toEqual(m.values.map(String));
    });
    for (const m of msgs) expect(h.plugin.counters[COUNTER_BY_TYPE + m.type.charCodeAt(0)]).toBe(1);
    expect(h.c('messages')).toBe(23);
    expect(h.c('malformed')).toBe(0);
  });

  it('decodes a generated market to the digest of what was generated, in bursts of packets', () => {
    const h = harness();
    const msgs = generate(20_000);
    const expected = new StreamDigest();
    msgs.forEach((m, i) => expected.addCanonical(canonicalRecord(m, BigInt(i + 1))));
    const recv = 1_700_000_000_000_000_000n;
    h.plugin.process(packets(msgs, 8).map((p) => ({ bytes: p.bytes, timestampNs: recv })));
    expect(h.digest.count).toBe(20_000);
    expect(h.digest.hex()).toBe(expected.hex());
    expect(h.c('messages')).toBe(20_000);
    expect(h.c('gap_messages') + h.c('duplicates') + h.c('malformed')).toBe(0);
    const byType = new Map<string, number>();
    for (const m of msgs) byType.set(m.type, (byType.get(m.type) ?? 0) + 1);
    for (const [t, n] of byType) expect(h.plugin.counters[COUNTER_BY_TYPE + t.charCodeAt(0)], t).toBe(n);
    expect(byType.size).toBeGreaterThanOrEqual(14);
  });

  it('measures latency as receive time of day minus the ITCH timestamp', () => {
    const h = harness();
    const day = 86_400_000_000_000n;
    const midnight = 1_700_000_000_000_000_000n - (1_700_000_000_000_000_000n % day);
    const msgs = generate(100).map((m) => ({ ...m, timestamp: 36_000_000_000_000n }));
    // Received 2 µs after the timestamp; one packet 50 µs after.
    const pk = packets(msgs, 10).map((p, i) => ({ bytes: p.bytes, timestampNs: midnight + 36_000_000_000_000n + (i === 3 ? 50_000n : 2_000n) }));
    h.plugin.process(pk);
    const hist = Array.from(h.plugin.counters.subarray(COUNTER_LATENCY, COUNTER_LATENCY + 1024));
    expect(hist.reduce((a, b) => a + b, 0)).toBe(100);
    expect(Math.abs(histogramQuantile(hist, 0.5) - 2000)).toBeLessThan(2000 * 0.07);
    expect(Math.abs(histogramQuantile(hist, 0.95) - 50_000)).toBeLessThan(50_000 * 0.07);
  });

  it('finds gaps exactly where packets were dropped, also when a heartbeat reveals one', () => {
    const h = harness();
    const pk = packets(generate(408), 8);
    const dropped = pk.filter((_, i) => (i + 1) % 7 === 0);
    const sent = pk.filter((_, i) => (i + 1) % 7 !== 0);
    // The last packet is lost too; only the heartbeat after it tells.
    const last = sent.pop()!;
    h.plugin.process([...sent.map((p) => ({ bytes: p.bytes })), { bytes: moldControl(S, 409n, 0) }]);
    const gaps = h.controls.filter((c) => c.kind === 'gap').map((c) => [c.a, c.b]);
    expect(gaps).toEqual([...dropped.map((p) => [p.seq, BigInt(p.count)]), [last.seq, BigInt(last.count)]]);
    expect(h.c('gap_messages')).toBe(dropped.reduce((a, p) => a + p.count, 0) + last.count);
    expect(h.c('gap_events')).toBe(dropped.length + 1);
    expect(h.c('heartbeats')).toBe(1);
    expect(h.records.length).toBe(408 - h.c('gap_messages'));
  });

  it('tells late messages (filling a gap) from duplicates', () => {
    const h = harness();
    const pk = packets(generate(80), 8); // 10 packets
    const order = [0, 1, 3, 4, 2, 2, 4, 5, 6, 7, 8, 9, 9];
    h.plugin.process(order.map((i) => ({ bytes: pk[i].bytes })));
    expect(h.c('gap_messages')).toBe(8);
    expect(h.c('late')).toBe(8);
    expect(h.c('duplicates')).toBe(8 + 8 + 8);
    expect(h.records.length).toBe(80);
    expect(h.records.filter((r) => r.late).map((r) => r.sequence)).toEqual([17n, 18n, 19n, 20n, 21n, 22n, 23n, 24n]);
    // Every sequence decoded exactly once.
    expect(new Set(h.records.map((r) => r.sequence)).size).toBe(80);
  });

  it('counts malformed messages, skips them by block length, never reads past the datagram', () => {
    const h = harness();
    const msgs = generate(40).slice(12, 16); // four order-book messages after the preamble
    const good = moldPacket(S, 1n, msgs);
    // Message 2 gets a wrong block length (and so a wrong size for its type); message 3 an unknown type.
    const bad = good.slice();
    const v = new DataView(bad.buffer);
    let o = 20;
    const lens: number[] = [];
    for (let i = 0; i < 4; i++) {
      lens.push(v.getUint16(o));
      o += 2 + v.getUint16(o);
    }
    const off2 = 20 + 2 + lens[0];
    const off3 = off2 + 2 + lens[1];
    bad[off3 + 2] = 0x7a; // 'z': no such type
    // Shorten message 2 by one byte: its block length says so, the rest of the packet shifts.
    const shrunk = new Uint8Array(bad.length - 1);
    shrunk.set(bad.subarray(0, off2));
    new DataView(shrunk.buffer).setUint16(off2, lens[1] - 1);
    shrunk.set(bad.subarray(off2 + 2, off2 + 2 + lens[1] - 1), off2 + 2);
    shrunk.set(bad.subarray(off3), off3 - 1);
    // A datagram whose last block claims more bytes than it has; the next datagram in the input
    // region holds a valid message right where the over-long block would reach.
    const trunc = moldPacket(S, 5n, msgs.slice(0, 2));
    new DataView(trunc.buffer).setUint16(20 + 2 + lens[0], lens[1] + 30);
    const next = moldPacket(S, 7n, msgs.slice(2));
    h.plugin.process([{ bytes: shrunk }, { bytes: trunc }, { bytes: next }, { bytes: new Uint8Array(12) }]);
    expect(h.c('malformed')).toBe(2 + 1);
    expect(h.c('bad_packets')).toBe(2); // the truncated one and the 12-byte one
    expect(h.records.map((r) => Number(r.sequence))).toEqual([1, 4, 5, 7, 8]);
    expect(h.c('gap_messages')).toBe(0);
  });

  it('handles end of session once and keeps sessions apart', () => {
    const h = harness();
    const msgs = generate(16);
    const T = sessionName('OTHER');
    h.plugin.process([
      { bytes: moldPacket(S, 1n, msgs.slice(0, 8)) },
      { bytes: moldPacket(T, 1n, msgs.slice(8, 16)) },
      { bytes: moldControl(S, 9n, 0xffff) },
      { bytes: moldControl(S, 9n, 0xffff) },
    ]);
    expect(h.c('sessions')).toBe(2);
    expect(h.c('end_of_session')).toBe(1);
    expect(h.controls.map((c) => [c.kind, c.sessionName.trim(), c.a])).toEqual([
      ['session', 'WWTEST0001', 1n], ['session', 'OTHER', 1n], ['end', 'WWTEST0001', 9n],
    ]);
    expect(new Set(h.records.map((r) => r.session))).toEqual(new Set([0, 1]));
  });
});

describe('soupbintcp-itch plugin', () => {
  const stream = (msgs: ItchMessage[]) => {
    const parts = [soupPacket('+', new TextEncoder().encode('hello')), soupLoginAccepted('WWSOUP0001', 1000n), soupSequenced(msgs.slice(0, 50)), soupPacket('H'), soupSequenced(msgs.slice(50)), soupPacket('Z')];
    const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return all;
  };

  it('reassembles packets cut anywhere by segment boundaries, numbering from the login', () => {
    const msgs = generate(300, 3);
    const bytes = stream(msgs);
    const expected = new StreamDigest();
    msgs.forEach((m, i) => expected.addCanonical(canonicalRecord(m, 1000n + BigInt(i))));
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    for (const cut of ['whole', 'bytes', 'random']) {
      const h = harness('soupbintcp-itch');
      const pieces: { bytes: Uint8Array }[] = [];
      for (let o = 0; o < bytes.length; ) {
        const n = cut === 'whole' ? bytes.length : cut === 'bytes' ? 1 : 1 + Math.floor(rnd() * 120);
        pieces.push({ bytes: bytes.subarray(o, Math.min(bytes.length, o + n)) });
        o += n;
      }
      h.plugin.process(pieces);
      expect(h.digest.hex(), cut).toBe(expected.hex());
      expect(h.c('messages'), cut).toBe(300);
      expect([h.c('logins'), h.c('heartbeats'), h.c('end_of_session'), h.c('debug'), h.c('malformed')], cut).toEqual([1, 1, 1, 1, 0]);
    }
  });

  it('keeps streams apart by flow hash and counts malformed sequenced data', () => {
    const h = harness('soupbintcp-itch');
    const msgs = generate(20, 5);
    const a = soupSequenced(msgs.slice(0, 10));
    const bad = soupPacket('S', new Uint8Array([0x41, 1, 2, 3])); // an 'A' message of 4 bytes
    const b = soupSequenced(msgs.slice(10));
    // Stream 1 is cut in the middle of its first packet; stream 2's bytes come in between.
    h.plugin.process([
      { bytes: soupLoginAccepted('ONE', 1n), hash: 1 }, { bytes: soupLoginAccepted('TWO', 1n), hash: 2 },
      { bytes: a.subarray(0, 17), hash: 1 }, { bytes: b, hash: 2 }, { bytes: a.subarray(17), hash: 1 }, { bytes: bad, hash: 2 },
    ]);
    expect(h.c('messages')).toBe(20);
    expect(h.c('malformed')).toBe(1);
    const one = h.records.filter((r) => r.session === h.records[0].session);
    expect(one.map((r) => Number(r.sequence))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
