// NASDAQ TotalView-ITCH 5.0 message decoding shared by the `itch` (MoldUDP64) and
// `soupbintcp-itch` plugins: every message type, per-session sequence bookkeeping, statistics and
// the decoded records handed to the host with wirewasm.emit. Wire facts: docs/feed.md.
//
// An ITCH message (big-endian):
//
//   0      1              3               5                      11
//   | type | stock locate | tracking no.  | timestamp (48-bit ns) | type-specific fields … |
//
// Every type-specific field is 1, 2, 4 or 8 bytes, so one decoded message is a fixed header and one
// little-endian u64 per field ("alpha" fields keep their ASCII bytes in order, zero-extended):
//
//   decoded record (little-endian, 32 + 8 × n bytes, 8-byte aligned)
//   0      1      2      3      4              6               8                16              24               32
//   | type | n    | slot | flags| stock locate | tracking no.  | sequence (u64) | ITCH ts (u64) | receive ns (u64) | n × u64 fields |
//
//   slot   the session's index in this plugin (announced by a SESSION record)
//   flags  FLAG_LATE: the message filled a gap (arrived after later ones)
//
// Records are gathered in an output buffer and handed over in one wirewasm.emit per burst
// (kind KIND_MESSAGES), so the host is called once per burst, not per message. Sequence events go
// out as 32-byte control records in stream order (the message buffer is flushed before each):
//
//   control record (40 bytes): | slot (u8) | 7 × 0 | a (u64) | b (u64) | session (10 bytes) | 6 × 0 |
//   KIND_GAP       a = first missing sequence, b = messages missing
//   KIND_SESSION   a = first sequence expected (the first seen, or the login's), b = 0
//   KIND_END       a = next sequence (end of session), b = 0
//
// Statistics go to the host with wirewasm.counter_add, once per burst for each counter that moved.

@external('wirewasm', 'emit') declare function emit(ptr: usize, len: i32, kind: i32): void;
@external('wirewasm', 'counter_add') declare function counter_add(id: i32, delta: i64): void;

// ABI v1 metadata block (docs/plugins.md).
export const ABI_HASH: usize = 12;
export const ABI_TIMESTAMP: usize = 16;
export const ABI_LEN: usize = 36;
export const ABI_PTR: usize = 40;
export const ABI_NEXT: usize = 44;
export const ABI_VERDICT: usize = 48;
export const ABI_QUEUE: usize = 24;

export const KIND_MESSAGES = 1;
export const KIND_GAP = 2;
export const KIND_SESSION = 3;
export const KIND_END = 4;

export const FLAG_LATE: u32 = 1;

// Counter ids (wirewasm.counter_add); host/feed/itch.ts names them.
export const C_PACKETS = 0;
export const C_MESSAGES = 1;
export const C_GAP_MESSAGES = 2;
export const C_GAP_EVENTS = 3;
export const C_DUPLICATES = 4;
export const C_LATE = 5;
export const C_MALFORMED = 6;
export const C_HEARTBEATS = 7;
export const C_END_OF_SESSION = 8;
export const C_BAD_PACKETS = 9;
export const C_SESSIONS = 10;
export const C_LOGINS = 11;
export const C_LOGIN_REJECTED = 12;
export const C_DEBUG = 13;
export const C_LATENCY_NEGATIVE = 14;
export const C_SESSION_OVERFLOW = 15;
export const C_EXTENDED = 16;
export const C_LINES = 32; // + 4 × (line − 1) + LINE_RECEIVED | LINE_FIRST | LINE_LATE | LINE_LOST
export const LINE_RECEIVED = 0;
export const LINE_FIRST = 1;
export const LINE_LATE = 2;
export const LINE_LOST = 3;
export const C_BY_TYPE = 256; // + type byte
export const C_LATENCY = 1024; // + histogram bucket (latencyBucket)
const COUNTERS = 2048;

const HEADER_BYTES = 11;
const RECORD_HEADER: usize = 32;
const MAX_FIELDS: usize = 14;
const TABLE_TYPES: usize = 23;
const MAX_RECORD: usize = RECORD_HEADER + 8 * MAX_FIELDS;
const OUT_BYTES: usize = 128 * 1024;
const CONTROL_BYTES = 40;
const DAY_NS: i64 = 86_400_000_000_000;

// Message table: type, total size, field count, then one code per field: size (1, 2, 4, 8),
// | ALPHA for ASCII fields (kept in byte order). Sizes and offsets: docs/feed.md.
const A: u8 = 0x80;
const TABLE = memory.data<u8>([
  0x53, 12, 1, A | 1, //                                                         S system event
  0x52, 39, 14, A | 8, A | 1, A | 1, 4, A | 1, A | 1, A | 2, A | 1, A | 1, A | 1, A | 1, A | 1, 4, A | 1, // R stock directory
  0x48, 25, 4, A | 8, A | 1, A | 1, A | 4, //                                    H trading action
  0x59, 20, 2, A | 8, A | 1, //                                                  Y Reg SHO
  0x4c, 26, 5, A | 4, A | 8, A | 1, A | 1, A | 1, //                             L participant position
  0x56, 35, 3, 8, 8, 8, //                                                       V MWCB decline level
  0x57, 12, 1, A | 1, //                                                         W MWCB status
  0x4b, 28, 4, A | 8, 4, A | 1, 4, //                                            K IPO quoting period
  0x4a, 35, 5, A | 8, 4, 4, 4, 4, //                                             J LULD auction collar
  0x68, 21, 3, A | 8, A | 1, A | 1, //                                           h operational halt
  0x41, 36, 5, 8, A | 1, 4, A | 8, 4, //                                         A add order
  0x46, 40, 6, 8, A | 1, 4, A | 8, 4, A | 4, //                                  F add order with MPID
  0x45, 31, 3, 8, 4, 8, //                                                       E executed
  0x43, 36, 5, 8, 4, 8, A | 1, 4, //                                             C executed with price
  0x58, 23, 2, 8, 4, //                                                          X cancel
  0x44, 19, 1, 8, //                                                             D delete
  0x55, 35, 4, 8, 8, 4, 4, //                                                    U replace
  0x50, 44, 6, 8, A | 1, 4, A | 8, 4, 8, //                                      P trade
  0x51, 40, 5, 8, A | 8, 4, 8, A | 1, //                                         Q cross trade
  0x42, 19, 1, 8, //                                                             B broken trade
  0x49, 50, 9, 8, 8, A | 1, A | 8, 4, 4, 4, A | 1, A | 1, //                     I NOII
  0x4e, 20, 2, A | 8, A | 1, //                                                  N RPII
  0x4f, 48, 8, A | 8, A | 1, 4, 4, 4, 8, 4, 4, //                                O DLCR price discovery
  0,
]);

// The swizzle of a message's first 16 bytes that puts the locate and tracking number at record
// bytes 4..7 and the 48-bit timestamp at 8..15 (0xff: zero). Loaded from here rather than written
// as a constant: the compiler builds a 16-byte constant from two 8-byte immediates on every use.
const HEADER_SWIZZLE = memory.data<u8>([0xff, 0xff, 0xff, 0xff, 2, 1, 4, 3, 10, 9, 8, 7, 6, 5, 0xff, 0xff]);

// Sessions: SESSIONS entries of SESSION_BYTES, found by their 10-byte name.
//
//   0 name[0..8] (u64) | 8 name[8..10] (u16) | 10 used | 11 ended | 16 expected (u64) | 24 ranges (u32)
//   32 LINES × u64: per A/B line, the sequence it expects next (0: line not seen)
//   64 … RANGES × {first u64, end u64}: sequences not delivered yet (for telling a late message,
//   which fills a gap, from a duplicate). Bit 63 of `end` marks a range still pending: missed by
//   one line while another may yet bring it (not a gap until every line has passed it). When all
//   RANGES are in use the oldest is forgotten: its messages, should they still come, count as
//   duplicates.
const SESSIONS: i32 = 16;
const SESSION_BYTES: usize = 16384;
const RANGES: u32 = 1020; // gaps outstanding at once per session (a re-requesting client has many)
const S_EXPECTED: usize = 16;
const S_RANGES: usize = 24;
const S_RANGE0: usize = 64;
export const S_LINES: usize = 32;
export const LINES: u32 = 4;
const PENDING: u64 = 1 << 63;

// Types of at least 16 bytes (all but S and W) decode two fields at a time with SIMD: a 16-byte
// load of the message bytes both fields lie in (the window), one swizzle that puts each field's
// bytes in place as a little-endian u64 (numbers reversed from big-endian, ASCII kept in order,
// the rest zero), one 16-byte store. Each such type has max(ceil(n / 2), FIXED_CHUNKS) chunks of
// CHUNK_BYTES:
//
//   chunk: swizzle mask (16 bytes, 0xff: zero) | window offset in the message (u32) | 12 × 0
//
// The window starts at the first field's offset, or earlier when that would read past the type's
// size (two fields are at most 16 bytes, so both stay inside), and nothing past the message is
// read.
//
// Every type runs FIXED_CHUNKS chunks unconditionally (the types of fewer fields have chunks of
// zero masks over window 0 to fill the count): the types arrive in random order, so a loop of as
// many steps as the type has chunks would mispredict its exit on most messages. Only the few
// types of more than 2 × FIXED_CHUNKS fields (R, I, O) loop over the rest. What the chunks write
// past the record's 8 × n field bytes is zeros the next record overwrites; a record and these
// extra bytes stay within MAX_RECORD (32 + 16 × 7), the room the out buffer keeps free.
const CHUNK_BYTES: usize = 32;
const FIXED_CHUNKS: u32 = 3;
const SIMD_MIN_SIZE: u32 = 16;

// Addresses of this instance's tables, set once by itchInit (the plugin has its own memory).
let types: usize = 0; //    256 × {size u8, n u8, fields offset u16 (in TABLE), chunks offset u32 (from chunks)}
let chunks: usize = 0; //   the SIMD chunks of every type of SIMD_MIN_SIZE bytes or more
let pending: usize = 0; //  COUNTERS × u64 not yet handed to the host
let dirty: usize = 0; //    COUNTERS × u16: ids with a pending delta
let dirtyCount: i32 = 0;
let sessions: usize = 0;
let sessionCount: i32 = 0;
let lastSession: usize = 0;
let out: usize = 0;
let outPos: usize = 0;
let ctl: usize = 0; //      one control record being built

export function itchInit(): void {
  types = heap.alloc(256 * 8);
  memory.fill(types, 0, 256 * 8);
  chunks = heap.alloc(<usize>(TABLE_TYPES * (MAX_FIELDS / 2)) * CHUNK_BYTES);
  let c = chunks;
  let p = TABLE;
  for (let t = <u32>load<u8>(p); t != 0; t = <u32>load<u8>(p)) {
    const size = <u32>load<u8>(p, 1);
    const n = <u32>load<u8>(p, 2);
    const e = types + (<usize>t << 3);
    store<u8>(e, <u8>size);
    store<u8>(e, <u8>n, 1);
    store<u16>(e, <u16>(p + 3 - TABLE), 2);
    store<u32>(e, <u32>(c - chunks), 4);
    if (size >= SIMD_MIN_SIZE) c = chunksOf(c, p + 3, n, size);
    p += 3 + n;
  }
  pending = heap.alloc(COUNTERS * 8);
  memory.fill(pending, 0, COUNTERS * 8);
  dirty = heap.alloc(COUNTERS * 2);
  sessions = heap.alloc(<usize>SESSIONS * SESSION_BYTES);
  memory.fill(sessions, 0, <usize>SESSIONS * SESSION_BYTES);
  out = heap.alloc(OUT_BYTES);
  outPos = out;
  ctl = heap.alloc(CONTROL_BYTES);
}

/** Writes at `c` the SIMD chunks of a type of `size` bytes with the `n` field codes at `f`; returns where they end. */
function chunksOf(c: usize, f: usize, n: u32, size: u32): usize {
  let off = <u32>HEADER_BYTES;
  for (let j: u32 = 0; j < n; j += 2) {
    const c0 = <u32>load<u8>(f + j);
    const c1 = j + 1 < n ? <u32>load<u8>(f + j + 1) : 0;
    const w = min(off, size - 16);
    memory.fill(c, 0xff, 16);
    maskField(c, c0, off - w);
    maskField(c + 8, c1, off + (c0 & 15) - w);
    store<u32>(c, w, 16);
    off += (c0 & 15) + (c1 & 15);
    c += CHUNK_BYTES;
  }
  for (let j = (n + 1) >> 1; j < FIXED_CHUNKS; j++) {
    memory.fill(c, 0xff, 16);
    store<u32>(c, 0, 16);
    c += CHUNK_BYTES;
  }
  return c;
}

/** The 8 mask bytes at `m` that place the field of code `code` starting at window byte `at` (code 0: none). */
function maskField(m: usize, code: u32, at: u32): void {
  const size = code & 15;
  for (let b: u32 = 0; b < size; b++) store<u8>(m + b, <u8>(code & A ? at + b : at + size - 1 - b));
}

/** Adds to a counter, handed to the host at the next flush. */
@inline export function bump(id: i32, delta: u64): void {
  const a = pending + (<usize>id << 3);
  const v = load<u64>(a);
  if (v == 0) {
    store<u16>(dirty + (<usize>dirtyCount << 1), <u16>id);
    dirtyCount++;
  }
  store<u64>(a, v + delta);
}

/** Hands the decoded records and the counters that moved to the host; called once per burst. */
export function flush(): void {
  flushRecords();
  for (let i = 0; i < dirtyCount; i++) {
    const id = <i32>load<u16>(dirty + (<usize>i << 1));
    const a = pending + (<usize>id << 3);
    counter_add(id, load<i64>(a));
    store<u64>(a, 0);
  }
  dirtyCount = 0;
}

function flushRecords(): void {
  if (outPos > out) emit(out, <i32>(outPos - out), KIND_MESSAGES);
  outPos = out;
}

/** Latency histogram bucket: exact below 32 ns, then 16 sub-buckets per power of two (≤ 6.25 % wide). */
@inline export function latencyBucket(ns: u64): i32 {
  if (ns < 32) return <i32>ns;
  const e = 63 - <i32>clz(ns);
  return 32 + (e - 5) * 16 + <i32>((ns >> <u64>(e - 4)) & 15);
}

/** Nanoseconds since midnight (UTC) of a receive time in ns since the epoch; 0 when unknown. */
@inline export function timeOfDay(recvNs: u64): i64 {
  return recvNs == 0 ? -1 : <i64>(recvNs % <u64>DAY_NS);
}

/**
 * Decodes one ITCH message of `len` bytes at `src` into the output buffer. Returns false (and
 * writes nothing) when its type is unknown or `len` is below that type's size: a malformed message.
 * A longer message is decoded by its known part and counted `extended` (a later spec revision may
 * append fields).
 */
@inline export function decode(src: usize, len: u32, seq: u64, recvNs: u64, tod: i64, slot: u32, flags: u32): bool {
  const t = <u32>load<u8>(src);
  const e = types + (<usize>t << 3);
  const size = <u32>load<u8>(e);
  if (size == 0 || len < size) return false;
  if (len > size) bump(C_EXTENDED, 1);
  const n = <u32>load<u8>(e, 1);
  const d = outPos;
  const head = <u64>(t | (n << 8) | (slot << 16) | (flags << 24));
  let ts: u64;
  if (size >= SIMD_MIN_SIZE) {
    // Header: locate and tracking number to bytes 4..7, the 48-bit timestamp to 8..15.
    const h = v128.swizzle(v128.load(src), v128.load(HEADER_SWIZZLE));
    ts = i64x2.extract_lane(h, 1);
    store<u64>(d, <u64>i64x2.extract_lane(h, 0) | head);
    store<u64>(d, seq, 8);
    store<u64>(d, ts, 16);
    store<u64>(d, recvNs, 24);
    const c = chunks + <usize>load<u32>(e, 4);
    const o = d + RECORD_HEADER;
    v128.store(o, v128.swizzle(v128.load(src + <usize>load<u32>(c, 16)), v128.load(c)));
    v128.store(o, v128.swizzle(v128.load(src + <usize>load<u32>(c, 16 + CHUNK_BYTES)), v128.load(c, CHUNK_BYTES)), 16);
    v128.store(o, v128.swizzle(v128.load(src + <usize>load<u32>(c, 16 + 2 * CHUNK_BYTES)), v128.load(c, 2 * CHUNK_BYTES)), 32);
    if (n > 2 * FIXED_CHUNKS) {
      const last = c + <usize>((n + 1) >> 1) * CHUNK_BYTES;
      for (let k = c + <usize>FIXED_CHUNKS * CHUNK_BYTES, q = o + 16 * <usize>FIXED_CHUNKS; k < last; k += CHUNK_BYTES, q += 16) v128.store(q, v128.swizzle(v128.load(src + <usize>load<u32>(k, 16)), v128.load(k)));
    }
    outPos = d + RECORD_HEADER + (<usize>n << 3);
  } else {
    store<u64>(d, head | (<u64>bswap<u16>(load<u16>(src, 1)) << 32) | (<u64>bswap<u16>(load<u16>(src, 3)) << 48));
    store<u64>(d, seq, 8);
    ts = (<u64>bswap<u16>(load<u16>(src, 5)) << 32) | <u64>bswap<u32>(load<u32>(src, 7));
    store<u64>(d, ts, 16);
    store<u64>(d, recvNs, 24);
    outPos = fields(src + HEADER_BYTES, d + RECORD_HEADER, TABLE + <usize>load<u16>(e, 2), n);
  }
  if (outPos > out + OUT_BYTES - MAX_RECORD) flushRecords();
  bump(C_BY_TYPE + <i32>t, 1);
  if (tod >= 0) {
    let lat = tod - <i64>ts;
    if (lat < -(DAY_NS >> 1)) lat += DAY_NS; // sent before midnight, received after
    if (lat < 0) {
      bump(C_LATENCY_NEGATIVE, 1);
      lat = 0;
    }
    bump(C_LATENCY + latencyBucket(<u64>lat), 1);
  }
  return true;
}

/** Decodes the `n` fields (codes at `f`) of the message bytes at `q` into u64s at `o`, one at a time; returns where they end. */
function fields(q: usize, o: usize, f: usize, n: u32): usize {
  const end = f + <usize>n;
  for (; f < end; f++) {
    const c = <u32>load<u8>(f);
    let v: u64;
    switch (c) {
      case 1:
      case A | 1: v = <u64>load<u8>(q); break;
      case 2: v = <u64>bswap<u16>(load<u16>(q)); break;
      case A | 2: v = <u64>load<u16>(q); break;
      case 4: v = <u64>bswap<u32>(load<u32>(q)); break;
      case A | 4: v = <u64>load<u32>(q); break;
      case 8: v = bswap<u64>(load<u64>(q)); break;
      default: v = load<u64>(q); // A | 8
    }
    store<u64>(o, v);
    o += 8;
    q += <usize>(c & 15);
  }
  return o;
}

// --- sessions ---------------------------------------------------------------------------------

/** The entry of the session named by the 10 bytes at `name`, made on first sight; 0 when full. */
export function session(name: usize, firstSeq: u64): usize {
  const lo = load<u64>(name);
  const hi = load<u16>(name, 8);
  let s = lastSession;
  if (s != 0 && load<u64>(s) == lo && load<u16>(s, 8) == hi) return s;
  for (let i = 0; i < sessionCount; i++) {
    s = sessions + <usize>i * SESSION_BYTES;
    if (load<u64>(s) == lo && load<u16>(s, 8) == hi) {
      lastSession = s;
      return s;
    }
  }
  if (sessionCount == SESSIONS) {
    bump(C_SESSION_OVERFLOW, 1);
    return 0;
  }
  s = sessions + <usize>sessionCount * SESSION_BYTES;
  sessionCount++;
  store<u64>(s, lo);
  store<u16>(s, hi, 8);
  store<u8>(s, 1, 10);
  store<u64>(s, firstSeq, S_EXPECTED);
  // Joined after the start: what came before was never delivered, so a copy of it (asked for
  // with --start-seq 1, or a late packet) fills in rather than counting as a duplicate.
  if (firstSeq > 1) addRange(s, 1, firstSeq, false);
  lastSession = s;
  bump(C_SESSIONS, 1);
  control(KIND_SESSION, s, firstSeq, 0);
  return s;
}

@inline export function sessionSlot(s: usize): u32 {
  return <u32>((s - sessions) / SESSION_BYTES);
}

@inline export function expected(s: usize): u64 {
  return load<u64>(s, S_EXPECTED);
}

@inline export function setExpected(s: usize, seq: u64): void {
  store<u64>(s, seq, S_EXPECTED);
}

/** Emits a control record, after the messages decoded before it. */
export function control(kind: i32, s: usize, a: u64, b: u64): void {
  flushRecords();
  store<u64>(ctl, <u64>sessionSlot(s));
  store<u64>(ctl, a, 8);
  store<u64>(ctl, b, 16);
  store<u64>(ctl, load<u64>(s), 24);
  store<u64>(ctl, <u64>load<u16>(s, 8), 32);
  emit(ctl, CONTROL_BYTES, kind);
}

/** Sequences [first, first + count) were not received: count them, remember them, tell the host. */
export function gap(s: usize, first: u64, count: u64): void {
  bump(C_GAP_MESSAGES, count);
  bump(C_GAP_EVENTS, 1);
  addRange(s, first, first + count, false);
  control(KIND_GAP, s, first, count);
}

/** Remembers [first, end) as not delivered yet; `pending`: not a gap until every line passed it. */
export function addRange(s: usize, first: u64, end: u64, pending: bool): void {
  let n = load<u32>(s, S_RANGES);
  if (n == RANGES) {
    // Forget the oldest: its messages, if they ever come, count as duplicates.
    memory.copy(s + S_RANGE0, s + S_RANGE0 + 16, <usize>(RANGES - 1) * 16);
    n--;
  }
  const r = s + S_RANGE0 + (<usize>n << 4);
  store<u64>(r, first);
  store<u64>(r, end | (pending ? PENDING : 0), 8);
  store<u32>(s, n + 1, S_RANGES);
}

/** Turns the pending ranges every line has passed (ending at or below `passed`) into gaps. */
export function declarePassed(s: usize, passed: u64): void {
  const n = load<u32>(s, S_RANGES);
  for (let i: u32 = 0; i < n; i++) {
    const r = s + S_RANGE0 + (<usize>i << 4);
    const e = load<u64>(r, 8);
    if ((e & PENDING) == 0 || (e & ~PENDING) > passed) continue;
    store<u64>(r, e & ~PENDING, 8);
    const first = load<u64>(r);
    bump(C_GAP_MESSAGES, (e & ~PENDING) - first);
    bump(C_GAP_EVENTS, 1);
    control(KIND_GAP, s, first, (e & ~PENDING) - first);
  }
}

export const FILL_NONE = 0; //    not missing: a duplicate
export const FILL_GAP = 1; //     filled a gap: late
export const FILL_PENDING = 2; // filled a range one line missed: a first arrival from another line

/** Whether `seq` was missing (it is delivered now, so forgotten) and how: FILL_*. */
export function fillGap(s: usize, seq: u64): i32 {
  const n = load<u32>(s, S_RANGES);
  for (let i: u32 = 0; i < n; i++) {
    const r = s + S_RANGE0 + (<usize>i << 4);
    const first = load<u64>(r);
    const raw = load<u64>(r, 8);
    const flag = raw & PENDING;
    const end = raw & ~PENDING;
    if (seq < first || seq >= end) continue;
    const how = flag ? FILL_PENDING : FILL_GAP;
    if (seq == first) store<u64>(r, first + 1);
    else if (seq == end - 1) store<u64>(r, (end - 1) | flag, 8);
    else if (n < RANGES) {
      // Split [first, end) into [first, seq) and [seq + 1, end).
      store<u64>(r, seq | flag, 8);
      const t = s + S_RANGE0 + (<usize>n << 4);
      store<u64>(t, seq + 1);
      store<u64>(t, end | flag, 8);
      store<u32>(s, n + 1, S_RANGES);
      return how;
    } else store<u64>(r, seq | flag, 8); // no room to split: forget the upper part
    if (load<u64>(r) >= (load<u64>(r, 8) & ~PENDING)) {
      memory.copy(r, r + 16, <usize>(n - 1 - i) << 4);
      store<u32>(s, n - 1, S_RANGES);
    }
    return how;
  }
  return FILL_NONE;
}

/** Marks the session ended (once) and tells the host. */
export function endSession(s: usize, next: u64): void {
  if (load<u8>(s, 11)) return;
  store<u8>(s, 1, 11);
  bump(C_END_OF_SESSION, 1);
  control(KIND_END, s, next, 0);
}
