// The records framing: what BatchWriter writes, decodeBatch reads back field for field, and every
// kind of damage is refused with a FramingError that names it (never a wrong record).
import { describe, expect, it } from 'vitest';
import { batchAfter, BatchWriter, decodeBatch, encodeEngineId, FramingError, HEADER_BYTES, msgId, RecordCursor, recordValue } from '../../host/publish/framing.js';
import { checkToken, defaultEngineId, recordsSubject } from '../../host/publish/subjects.js';

function message(): Uint8Array {
  const w = new BatchWriter(4096);
  w.begin('frame', encodeEngineId('host-1'), new Uint8Array(0), 3, 2 ** 40 + 5, 1.7e18);
  const src = new Uint8Array(100).map((_, i) => i);
  w.addFrom(src, 10, 64, 1);
  w.addFrom(src, 0, 0, 1);
  w.addFrom(src, 90, 10, 113);
  return w.finish().slice();
}

describe('framing', () => {
  it('decodes what it encodes: header, sequence numbers, record bytes and types', () => {
    const b = decodeBatch(message());
    expect(b).toMatchObject({ engine: 'host-1', queue: 3, kind: 'frame', tag: '', seq: 2 ** 40 + 5 });
    expect(b.timeNs).toBeCloseTo(1.7e18, -4);
    expect(b.records.map((r) => r.seq)).toEqual([2 ** 40 + 5, 2 ** 40 + 6, 2 ** 40 + 7]);
    expect(b.records.map((r) => r.type)).toEqual([1, 1, 113]);
    expect([...b.records[0].bytes]).toEqual(Array.from({ length: 64 }, (_, i) => i + 10));
    expect(b.records[1].bytes.length).toBe(0);
    expect([...b.records[2].bytes]).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });

  it('word-by-word copies out of shared memory give the same bytes, at any source alignment and length', () => {
    const mem = new Uint8Array(new SharedArrayBuffer(4096)).map((_, i) => (i * 7 + 3) & 255);
    const words = new Int32Array(mem.buffer);
    const cases: [number, number][] = [[64, 64], [128, 61], [256, 3], [512, 0], [1027, 60], [2050, 33]];
    const w = new BatchWriter(8192);
    // An engine id of 5 bytes puts the first record's bytes off a 4-byte boundary in the message.
    w.begin('frame', encodeEngineId('odd-1'), new Uint8Array(0), 0, 0, 0);
    for (const [from, len] of cases) w.addFrom(mem, from, len, 1, words);
    const got = decodeBatch(w.finish()).records.map((r) => [...r.bytes]);
    expect(got).toEqual(cases.map(([from, len]) => [...mem.subarray(from, from + len)]));
  });

  it('runs copied out of shared memory give the same records whatever the source and message offsets modulo 8', () => {
    // A run of framed records (u32 length, u16 type, u16 0, bytes) in a shared memory at `at`.
    const mem = new Uint8Array(new SharedArrayBuffer(1 << 16));
    const lay = (at: number, lens: number[]): number => {
      let p = at;
      for (const [i, len] of lens.entries()) {
        new DataView(mem.buffer).setUint32(p, len, true);
        new DataView(mem.buffer).setUint16(p + 4, i + 1, true);
        for (let k = 0; k < len; k++) mem[p + 8 + k] = (p + k * 13) & 255;
        p += 8 + len;
      }
      return p - at;
    };
    for (const id of ['e', 'ab', 'odd-1', 'host-123']) {
      for (let from = 0; from < 8; from++) {
        // Small runs first, then one larger than any before it (the bounce buffer grows).
        for (const lens of [[64, 61, 3], [0], Array.from({ length: 150 }, (_, i) => 40 + (i % 29))]) {
          const at = 1024 + from;
          const bytes = lay(at, lens);
          const w = new BatchWriter(bytes + 64);
          w.begin('frame', encodeEngineId(id), new Uint8Array(0), 0, 0, 0);
          w.addRecords(mem, at, bytes, lens.length);
          const b = decodeBatch(w.finish());
          expect(b.records.map((r) => r.type)).toEqual(lens.map((_, i) => i + 1));
          let p = at;
          const want = lens.map((len) => {
            const r = [...mem.subarray(p + 8, p + 8 + len)];
            p += 8 + len;
            return r;
          });
          expect(b.records.map((r) => [...r.bytes])).toEqual(want);
        }
      }
    }
  });

  it('values (u64 up to 2^53) and plugin records with their plugin name', () => {
    const w = new BatchWriter(1024);
    w.begin('plugin', encodeEngineId('e'), new TextEncoder().encode('itch'), 0, 0, 0);
    w.addFrom(new Uint8Array([1, 2, 3]), 0, 3, 0x41);
    const p = decodeBatch(w.finish());
    expect(p).toMatchObject({ kind: 'plugin', tag: 'itch' });
    expect(p.records[0].type).toBe(0x41);
    const v = new BatchWriter(1024);
    v.begin('value', encodeEngineId('e'), new Uint8Array(0), 0, 7, 0);
    for (const x of [0, 1, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) v.addValue(x);
    expect(decodeBatch(v.finish()).records.map(recordValue)).toEqual([0, 1, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]);
  });

  it('a cursor reads the same records as the record objects, reused from batch to batch, and a batch cut after k records keeps the rest', () => {
    const v = new BatchWriter(1024);
    v.begin('value', encodeEngineId('e'), new Uint8Array(0), 2, 40, 0);
    for (const x of [5, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) v.addValue(x);
    const batches = [decodeBatch(message()), decodeBatch(v.finish().slice())];
    const c = new RecordCursor();
    for (const b of batches) {
      const walked: { seq: number; type: number; bytes: number[] }[] = [];
      expect(b.cursor(c)).toBe(c);
      while (c.next()) walked.push({ seq: c.seq, type: c.type, bytes: [...c.data.subarray(c.offset, c.offset + c.length)] });
      expect(c.next()).toBe(false);
      expect(walked).toEqual(b.records.map((r) => ({ seq: r.seq, type: r.type, bytes: [...r.bytes] })));
      expect(b.count).toBe(b.records.length);
      for (let k = 0; k <= b.count; k++) {
        const cut = batchAfter(b, k);
        expect(cut).toMatchObject({ engine: b.engine, queue: b.queue, kind: b.kind, seq: b.seq + k, count: b.count - k });
        expect(cut.records.map((r) => [r.seq, r.type, [...r.bytes]])).toEqual(b.records.slice(k).map((r) => [r.seq, r.type, [...r.bytes]]));
      }
    }
    const values: number[] = [];
    for (batches[1].cursor(c); c.next(); ) values.push(c.value());
    expect(values).toEqual([5, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]);
    expect(batches[1].records.map(recordValue)).toEqual(values);
  });

  it('refuses foreign and damaged messages, naming the problem', () => {
    const good = message();
    const bad = (m: Uint8Array, re: RegExp) => expect(() => decodeBatch(m)).toThrow(re);
    bad(new TextEncoder().encode('{"hello":"world", "padding": "........"}'), /no "WWR1" magic/);
    bad(good.subarray(0, 20), /no "WWR1" magic/);
    bad(good.subarray(0, good.length - 1), /record 2 of 3: 10 bytes run past the end/);
    bad(Uint8Array.from([...good, 0]), /1 bytes after the last of 3 records/);
    const kind = good.slice();
    kind[4] = 9;
    bad(kind, /unknown kind 9/);
    const none = good.slice();
    none.set([0, 0, 0, 0], 8);
    bad(none, /no records/);
    const idLen = good.slice();
    idLen[5] = 255;
    bad(idLen, /record 0 of 3|run past the end/);
    for (const m of [kind, none]) expect(() => decodeBatch(m)).toThrow(FramingError);
    expect(HEADER_BYTES).toBe(32);
  });

  it('subjects and ids: one NATS token per engine id, hierarchical subjects, unique message ids', () => {
    expect(recordsSubject('wirewasm.h1.records', 'frame')).toBe('wirewasm.h1.records.frame');
    expect(recordsSubject('wirewasm.h1.records', 'plugin', 'soupbintcp-itch')).toBe('wirewasm.h1.records.plugin.soupbintcp-itch');
    expect(() => checkToken('engine id', 'a.b')).toThrow(/one NATS subject token.*"a_b"/);
    expect(() => checkToken('engine id', 'a*')).toThrow(/one NATS subject token/);
    expect(defaultEngineId()).toMatch(new RegExp(`-${process.pid}$`));
    expect(defaultEngineId()).not.toMatch(/[.*>\s]/);
    expect(msgId('h1', 0, 10)).not.toBe(msgId('h1', 1, 10));
    expect(msgId('h1', 0, 10)).not.toBe(msgId('h10', 0, 10));
  });
});
