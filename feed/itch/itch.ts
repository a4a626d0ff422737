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
//
// A/B lines: each line is its own receive queue, 1 to 4 (metadata `queue`; 0: no line, e.g. a
// single feed or a re-request answer). The first copy of a message is delivered, the other counted a duplicate.
// Messages one line misses are pending, not a gap, while another line may still bring them; they
// become a gap once every line seen has passed them. Per line: messages received, first arrivals,
// late copies (the other line was first) and messages lost (skipped by this line).

import {
  ABI_LEN, ABI_QUEUE, ABI_NEXT, ABI_PTR, ABI_TIMESTAMP, ABI_VERDICT, addRange, bump, C_BAD_PACKETS, C_DUPLICATES, C_HEARTBEATS, C_LATE,
  C_LINES, C_MALFORMED, C_MESSAGES, C_PACKETS, declarePassed, decode, endSession, expected, FILL_GAP, FILL_NONE, fillGap, FLAG_LATE, flush, gap,
  itchInit, LINE_FIRST, LINE_LATE, LINE_LOST, LINE_RECEIVED, LINES, S_LINES, session, sessionSlot, setExpected, timeOfDay,
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
  const v = datagram(ptr, <u32>len, load<u64>(meta, ABI_TIMESTAMP), lineOf(meta));
  flush();
  return v;
}

export function wirewasm_on_burst(count: i32, metas: usize): i32 {
  let m = metas;
  for (let i = 0; i < count; i++) {
    store<i32>(m, datagram(<usize>load<u32>(m, ABI_PTR), load<u32>(m, ABI_LEN), load<u64>(m, ABI_TIMESTAMP), lineOf(m)), ABI_VERDICT);
    m = <usize>load<u32>(m, ABI_NEXT);
  }
  flush();
  return count;
}

@inline function lineOf(meta: usize): u32 {
  const l = <u32>load<u16>(meta, ABI_QUEUE);
  return l <= LINES ? l : 0;
}

/** Where line `line` (1..LINES) of session `s` keeps the sequence it expects next (0: not seen). */
@inline function lineAt(s: usize, line: u32): usize {
  return s + S_LINES + (<usize>(line - 1) << 3);
}

@inline function lineCount(line: u32, k: i32, n: u64): void {
  if (line != 0) bump(C_LINES + 4 * (<i32>line - 1) + k, n);
}

/** True when a line other than `line`, seen before, has not passed `end` yet (it may still bring [.., end)). */
function othersBehind(s: usize, line: u32, end: u64): bool {
  if (line == 0) return false;
  for (let l: u32 = 1; l <= LINES; l++) {
    const e = load<u64>(lineAt(s, l));
    if (l != line && e != 0 && e < end) return true;
  }
  return false;
}

/** [first, end) did not come on `line`: a gap now, or pending while another line may bring it. */
function missed(s: usize, first: u64, end: u64, line: u32): void {
  if (othersBehind(s, line, end)) addRange(s, first, end, true);
  else gap(s, first, end - first);
}

/** Line `line` has passed `end`: the pending ranges every line has passed become gaps. */
function linePassed(s: usize, line: u32, end: u64): void {
  if (line == 0) return;
  const a = lineAt(s, line);
  if (end > load<u64>(a)) store<u64>(a, end);
  let low: u64 = u64.MAX_VALUE;
  for (let l: u32 = 1; l <= LINES; l++) {
    const e = load<u64>(lineAt(s, l));
    if (e != 0 && e < low) low = e;
  }
  declarePassed(s, low);
}

/** One MoldUDP64 datagram of `len` bytes at `p`, received at `recvNs` (ns since the epoch, 0: unknown) on `line` (0: none). */
function datagram(p: usize, len: u32, recvNs: u64, line: u32): i32 {
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
  if (line != 0) {
    const le = load<u64>(lineAt(s, line));
    if (le != 0 && seq > le) lineCount(line, LINE_LOST, seq - le);
  }
  let next = expected(s);
  if (seq > next) {
    missed(s, next, seq, line);
    next = seq;
    setExpected(s, seq);
  }
  if (count == 0 || count == 0xffff) {
    if (count == 0) bump(C_HEARTBEATS, 1);
    else endSession(s, seq);
    linePassed(s, line, seq);
    return 0;
  }
  const slot = sessionSlot(s);
  const tod = timeOfDay(recvNs);
  const inOrder = seq == next;
  let off: u32 = HEADER;
  let decoded: u32 = 0;
  let verdict = 0;
  let i: u32 = 0;
  if (inOrder && line == 0) {
    // The common case, a packet in order on a single feed: no message can be late or a
    // duplicate and no line counts, so the loop keeps only what decoding needs.
    for (; i < count; i++) {
      const n = off + 2 <= len ? <u32>bswap<u16>(load<u16>(p + <usize>off)) : len;
      if (off + 2 + n > len) {
        bump(C_BAD_PACKETS, 1);
        verdict = ERR_TRUNCATED;
        break;
      }
      off += 2;
      if (n > 0 && decode(p + <usize>off, n, seq + <u64>i, recvNs, tod, slot, 0)) decoded++;
      else bump(C_MALFORMED, 1);
      off += n;
    }
  } else for (; i < count; i++) {
    // The length is read only when its 2 bytes are inside the datagram.
    const n = off + 2 <= len ? <u32>bswap<u16>(load<u16>(p + <usize>off)) : len;
    if (off + 2 + n > len) {
      bump(C_BAD_PACKETS, 1);
      verdict = ERR_TRUNCATED;
      break;
    }
    off += 2;
    const q = seq + <u64>i;
    let flags: u32 = 0;
    lineCount(line, LINE_RECEIVED, 1);
    if (!inOrder && q < next) {
      const how = fillGap(s, q);
      if (how == FILL_NONE) {
        bump(C_DUPLICATES, 1);
        lineCount(line, LINE_LATE, 1);
        off += n;
        continue;
      }
      if (how == FILL_GAP) {
        flags = FLAG_LATE;
        bump(C_LATE, 1);
      }
    }
    lineCount(line, LINE_FIRST, 1);
    if (n > 0 && decode(p + <usize>off, n, q, recvNs, tod, slot, flags)) decoded++;
    else bump(C_MALFORMED, 1);
    off += n;
  }
  // Messages the header announced but the datagram does not hold (cut short, or a count that
  // lies): never received, so a gap a later copy can fill. Those below `next` keep their state
  // (delivered, or already in a gap).
  const end = seq + <u64>count;
  const missing = seq + <u64>i > next ? seq + <u64>i : next;
  if (end > missing) missed(s, missing, end, line);
  if (seq + <u64>i < end) lineCount(line, LINE_LOST, end - (seq + <u64>i));
  bump(C_MESSAGES, <u64>decoded);
  if (end > next) setExpected(s, end);
  linePassed(s, line, end);
  return verdict;
}
