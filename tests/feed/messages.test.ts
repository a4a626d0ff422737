// MessageView.reset: one cursor pointed at batch after batch anywhere in a memory reads each
// batch's records from its first, stops at the batch's end (never reading the bytes after it),
// and keeps or replaces the session names. Records are written here from the layout in
// feed/itch/itch50.ts, not with the code under test.
import { describe, expect, it } from 'vitest';
import { MessageView } from '../../host/feed/messages.js';

interface Rec { type: string; slot: number; late: boolean; locate: number; tracking: number; seq: bigint; ts: bigint; rx: bigint; fields: bigint[] }

/** Writes records at `at`; returns the end. */
function write(dv: DataView, at: number, recs: Rec[]): number {
  for (const r of recs) {
    dv.setUint8(at, r.type.charCodeAt(0));
    dv.setUint8(at + 1, r.fields.length);
    dv.setUint8(at + 2, r.slot);
    dv.setUint8(at + 3, r.late ? 1 : 0);
    dv.setUint16(at + 4, r.locate, true);
    dv.setUint16(at + 6, r.tracking, true);
    dv.setBigUint64(at + 8, r.seq, true);
    dv.setBigUint64(at + 16, r.ts, true);
    dv.setBigUint64(at + 24, r.rx, true);
    r.fields.forEach((f, i) => dv.setBigUint64(at + 32 + 8 * i, f, true));
    at += 32 + 8 * r.fields.length;
  }
  return at;
}

const rec = (type: string, seq: number, fields: bigint[], slot = 0, late = false): Rec => ({
  type, slot, late, locate: 100 + seq, tracking: 7 * seq, seq: BigInt(seq), ts: 34_200_000_000_000n + BigInt(seq), rx: 1_700_000_000_000_000_000n + BigInt(seq), fields,
});

/** Everything the cursor reads of each record of its batch. */
function read(v: MessageView): unknown[] {
  const out: unknown[] = [];
  while (v.next()) out.push([v.type, v.session, v.late, v.locate, v.tracking, v.sequence, v.sequenceNumber, v.timestamp, v.receivedNs, v.u32(0), v.u64(1)]);
  return out;
}
const want = (r: Rec, sessions: string[]) => [r.type, sessions[r.slot] ?? '', r.late, r.locate, r.tracking, r.seq, Number(r.seq), r.ts, r.rx, Number(r.fields[0] & 0xffffffffn), r.fields[1]];

describe('MessageView.reset', () => {
  const mem = new Uint8Array(4096);
  const dv = new DataView(mem.buffer);
  const a = [rec('A', 1, [5n, 1n << 40n, 3n]), rec('D', 2, [9n, 77n], 1, true)];
  const b = [rec('E', 3, [0xfffffffen, 12345n, 1n])];
  const after = [rec('X', 4, [1n, 2n])]; // right after batch b: not part of it
  const aAt = 40;
  const aEnd = write(dv, aAt, a);
  const bAt = 1000;
  const bEnd = write(dv, bAt, b);
  write(dv, bEnd, after);

  it('reads each batch from its first record to its end, with the sessions given or kept', () => {
    const v = new MessageView();
    expect(read(v)).toEqual([]);
    expect(read(v.reset(mem, dv, aAt, aEnd - aAt, ['S1', 'S2']))).toEqual(a.map((r) => want(r, ['S1', 'S2'])));
    expect(read(v.reset(mem, dv, bAt, bEnd - bAt))).toEqual(b.map((r) => want(r, ['S1', 'S2'])));
    expect(read(v.reset(mem, dv, bAt, bEnd - bAt, ['T1']))).toEqual(b.map((r) => want(r, ['T1'])));
  });

  it('a reset in the middle of a batch starts the next one from its first record; rewind reads again', () => {
    const v = new MessageView().reset(mem, dv, aAt, aEnd - aAt, ['S1', 'S2']);
    expect(v.next()).toBe(true);
    v.reset(mem, dv, bAt, bEnd - bAt);
    expect(v.next()).toBe(true);
    expect(v.type).toBe('E');
    expect(v.next()).toBe(false);
    v.rewind();
    expect(read(v)).toHaveLength(1);
  });

  it('a record cut by the batch end is not read, nor anything past it', () => {
    const v = new MessageView();
    expect(read(v.reset(mem, dv, aAt, aEnd - aAt - 8, ['S1', 'S2']))).toEqual([want(a[0], ['S1', 'S2'])]);
    expect(read(v.reset(mem, dv, aAt, 20))).toEqual([]);
    expect(read(v.reset(mem, dv, bAt, 0))).toEqual([]);
  });

  it('copy() is the current batch\'s bytes only', () => {
    const v = new MessageView().reset(mem, dv, bAt, bEnd - bAt);
    expect(Buffer.from(v.copy())).toEqual(Buffer.from(mem.subarray(bAt, bEnd)));
  });
});
