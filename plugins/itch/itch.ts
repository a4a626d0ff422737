// The `itch` plugin (ABI v1, docs/plugins.md): NASDAQ ITCH 5.0 over MoldUDP64, one UDP payload per
// packet. Decodes every message (itch50.ts), tracks each session's sequence numbers and counts
// gaps, duplicates, late (out-of-order) messages, heartbeats, end of session and malformed input.
//
//   MoldUDP64 downstream packet (big-endian)
//   0           10                 18       20
//   | session   | sequence (u64)   | count  | count × { length (u16) | ITCH message } |
//
//   count 0: heartbeat; 0xFFFF: end of session. Either way `sequence` is the next one the server
//   will send, so a heartbeat can reveal a gap. The next expected sequence is sequence + count.
//
// Sequencing: a session's first packet sets its baseline (the sequence expected next); what came
// before it was never delivered, so copies of it fill in. A packet starting above the expected
// number opens a gap of exactly the missing count. A message below it is late (fills a gap
// announced before; decoded, flagged FLAG_LATE) or a duplicate (delivered before: counted, not
// decoded again). A block shorter than its type's size, or of an unknown type, is malformed:
// counted and skipped by its length; a longer one is decoded by its known part (counted
// `extended`). A block running past the datagram ends the packet, and the messages the header
// announced but the datagram lacks (cut short, or a count that lies) open a gap, so a re-request
// asks for them and a later copy fills them. Nothing is read past the datagram.

import {
  ABI_LEN, ABI_NEXT, ABI_PTR, ABI_TIMESTAMP, ABI_VERDICT, bump, C_BAD_PACKETS, C_DUPLICATES, C_HEARTBEATS, C_LATE,
  C_MALFORMED, C_MESSAGES, C_PACKETS, decode, endSession, expected, fillGap, FLAG_LATE, flush, gap, itchInit, session,
  sessionSlot, setExpected, timeOfDay,
} from './itch50';

const HEADER: u32 = 20;
const ERR_SHORT_HEADER = -1;
const ERR_TRUNCATED = -2;
const ERR_SESSIONS = -3;

export function wirewasm_abi_v1(): void {}

export function wirewasm_init(): i32 {
  itchInit();
  return 0;
}

export function wirewasm_input(capacity: i32): usize {
  return heap.alloc(<usize>capacity);
}

export function wirewasm_on_packet(ptr: usize, len: i32, meta: usize): i32 {
  const v = datagram(ptr, <u32>len, load<u64>(meta, ABI_TIMESTAMP));
  flush();
  return v;
}

export function wirewasm_on_burst(count: i32, metas: usize): i32 {
  let m = metas;
  for (let i = 0; i < count; i++) {
    store<i32>(m, datagram(<usize>load<u32>(m, ABI_PTR), load<u32>(m, ABI_LEN), load<u64>(m, ABI_TIMESTAMP)), ABI_VERDICT);
    m = <usize>load<u32>(m, ABI_NEXT);
  }
  flush();
  return count;
}

/** One MoldUDP64 datagram of `len` bytes at `p`, received at `recvNs` (ns since the epoch, 0: unknown). */
function datagram(p: usize, len: u32, recvNs: u64): i32 {
  bump(C_PACKETS, 1);
  if (len < HEADER) {
    bump(C_BAD_PACKETS, 1);
    return ERR_SHORT_HEADER;
  }
  const seq = bswap<u64>(load<u64>(p, 10));
  const s = session(p, seq);
  if (s == 0) {
    bump(C_BAD_PACKETS, 1);
    return ERR_SESSIONS;
  }
  const count = <u32>bswap<u16>(load<u16>(p, 18));
  let next = expected(s);
  if (seq > next) {
    gap(s, next, seq - next);
    next = seq;
    setExpected(s, seq);
  }
  if (count == 0 || count == 0xffff) {
    if (count == 0) bump(C_HEARTBEATS, 1);
    else endSession(s, seq);
    return 0;
  }
  const slot = sessionSlot(s);
  const tod = timeOfDay(recvNs);
  const inOrder = seq == next;
  let off: u32 = HEADER;
  let decoded: u32 = 0;
  let verdict = 0;
  let i: u32 = 0;
  for (; i < count; i++) {
    if (off + 2 > len || off + 2 + <u32>bswap<u16>(load<u16>(p + <usize>off)) > len) {
      bump(C_BAD_PACKETS, 1);
      verdict = ERR_TRUNCATED;
      break;
    }
    const n = <u32>bswap<u16>(load<u16>(p + <usize>off));
    off += 2;
    const q = seq + <u64>i;
    let flags: u32 = 0;
    if (!inOrder && q < next) {
      if (!fillGap(s, q)) {
        bump(C_DUPLICATES, 1);
        off += n;
        continue;
      }
      flags = FLAG_LATE;
      bump(C_LATE, 1);
    }
    if (n > 0 && decode(p + <usize>off, n, q, recvNs, tod, slot, flags)) decoded++;
    else bump(C_MALFORMED, 1);
    off += n;
  }
  // Messages the header announced but the datagram does not hold (cut short, or a count that
  // lies): never received, so a gap a later copy can fill. Those below `next` keep their state
  // (delivered, or already in a gap).
  const end = seq + <u64>count;
  const missing = seq + <u64>i > next ? seq + <u64>i : next;
  if (end > missing) gap(s, missing, end - missing);
  bump(C_MESSAGES, <u64>decoded);
  if (end > next) setExpected(s, end);
  return verdict;
}
