// The `soupbintcp-itch` plugin (ABI v1, docs/plugins.md): NASDAQ ITCH 5.0 over SoupBinTCP 4.1, the
// server-to-client direction of a TCP stream. Each packet handed in is a piece of the stream as it
// arrived (a TCP segment's payload, a recv() chunk); SoupBinTCP packets that straddle pieces are
// reassembled per stream (streams told apart by the flow hash in the metadata).
//
//   SoupBinTCP packet (big-endian)
//   0             2      3
//   | length (u16)| type | payload (length - 1 bytes) |      length excludes itself
//
//   server → client: '+' debug, 'A' login accepted (session 10, sequence 20 ASCII digits),
//   'J' login rejected (reason 1), 'S' sequenced data (one ITCH message), 'H' heartbeat,
//   'Z' end of session. 'U' (unsequenced data) is counted with debug.
//
// Sequenced messages carry no number on the wire: the first has the number the login accepted,
// each next one the following number (TCP delivers them in order, so there are no gaps to find).

import {
  ABI_HASH, ABI_LEN, ABI_NEXT, ABI_PTR, ABI_TIMESTAMP, ABI_VERDICT, bump, C_BAD_PACKETS, C_DEBUG, C_HEARTBEATS,
  C_LOGIN_REJECTED, C_LOGINS, C_MALFORMED, C_MESSAGES, C_PACKETS, decode, endSession, expected, flush, itchInit,
  session, sessionSlot, setExpected, timeOfDay,
} from '../itch/itch50';

// Streams: STREAMS entries, each a carry buffer for the packet cut by the end of a piece.
//
//   0 used (u32) | 4 flow hash (u32) | 8 session entry (u32) | 12 carried bytes (u32) | 16 carry buffer address
const STREAMS: i32 = 16;
const STREAM_BYTES: usize = 32;
const CARRY_BYTES: usize = 2 + 65535;
const ERR_STREAMS = -3;

let streams: usize = 0;
let streamCount: i32 = 0;
// A stream whose login was not seen numbers its messages in this placeholder session.
const NO_SESSION = memory.data<u8>([0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f]); // "??????????"

export function wirewasm_abi_v1(): void {}

export function wirewasm_init(): i32 {
  itchInit();
  streams = heap.alloc(<usize>STREAMS * STREAM_BYTES);
  memory.fill(streams, 0, <usize>STREAMS * STREAM_BYTES);
  return 0;
}

export function wirewasm_input(capacity: i32): usize {
  return heap.alloc(<usize>capacity);
}

export function wirewasm_on_packet(ptr: usize, len: i32, meta: usize): i32 {
  const v = piece(ptr, <u32>len, load<u64>(meta, ABI_TIMESTAMP), load<u32>(meta, ABI_HASH));
  flush();
  return v;
}

export function wirewasm_on_burst(count: i32, metas: usize): i32 {
  let m = metas;
  for (let i = 0; i < count; i++) {
    store<i32>(m, piece(<usize>load<u32>(m, ABI_PTR), load<u32>(m, ABI_LEN), load<u64>(m, ABI_TIMESTAMP), load<u32>(m, ABI_HASH)), ABI_VERDICT);
    m = <usize>load<u32>(m, ABI_NEXT);
  }
  flush();
  return count;
}

function stream(hash: u32): usize {
  for (let i = 0; i < streamCount; i++) {
    const st = streams + <usize>i * STREAM_BYTES;
    if (load<u32>(st, 4) == hash) return st;
  }
  if (streamCount == STREAMS) return 0;
  const st = streams + <usize>streamCount * STREAM_BYTES;
  streamCount++;
  store<u32>(st, 1);
  store<u32>(st, hash, 4);
  store<u32>(st, 0, 8);
  store<u32>(st, 0, 12);
  store<u32>(st, <u32>heap.alloc(CARRY_BYTES), 16);
  return st;
}

/** One piece of a stream: completes the carried packet, walks the whole ones, carries the rest. */
function piece(p: usize, len: u32, recvNs: u64, hash: u32): i32 {
  bump(C_PACKETS, 1);
  const st = stream(hash);
  if (st == 0) {
    bump(C_BAD_PACKETS, 1);
    return ERR_STREAMS;
  }
  const tod = timeOfDay(recvNs);
  const carry = <usize>load<u32>(st, 16);
  let have = load<u32>(st, 12);
  let i: u32 = 0;
  if (have > 0) {
    while (have < 2 && i < len) {
      store<u8>(carry + <usize>have, load<u8>(p + <usize>i));
      have++;
      i++;
    }
    if (have >= 2) {
      const need = 2 + <u32>bswap<u16>(load<u16>(carry));
      const take = min(need - have, len - i);
      memory.copy(carry + <usize>have, p + <usize>i, <usize>take);
      have += take;
      i += take;
      if (have == need) {
        packet(st, carry, need, recvNs, tod);
        have = 0;
      }
    }
  }
  if (have == 0) {
    while (i + 2 <= len) {
      const n = 2 + <u32>bswap<u16>(load<u16>(p + <usize>i));
      if (i + n > len) break;
      packet(st, p + <usize>i, n, recvNs, tod);
      i += n;
    }
    memory.copy(carry, p + <usize>i, <usize>(len - i));
    have = len - i;
  }
  store<u32>(st, have, 12);
  return 0;
}

/** One whole SoupBinTCP packet of `n` bytes (length field included) at `q`. */
function packet(st: usize, q: usize, n: u32, recvNs: u64, tod: i64): void {
  if (n < 3) {
    bump(C_MALFORMED, 1);
    return;
  }
  let s = <usize>load<u32>(st, 8);
  // Data before any login: numbered from 1 in a placeholder session (a capture started mid-stream).
  if (s == 0 && load<u8>(q, 2) != 0x41) {
    s = session(NO_SESSION, 1);
    store<u32>(st, <u32>s, 8);
  }
  if (s == 0 && load<u8>(q, 2) != 0x41) return;
  switch (<u32>load<u8>(q, 2)) {
    case 0x53: { // S sequenced data
      const seq = expected(s);
      setExpected(s, seq + 1);
      if (decode(q + 3, n - 3, seq, recvNs, tod, sessionSlot(s), 0)) bump(C_MESSAGES, 1);
      else bump(C_MALFORMED, 1);
      break;
    }
    case 0x48: bump(C_HEARTBEATS, 1); break; // H
    case 0x41: { // A login accepted: session (10), sequence (20 ASCII digits, space padded)
      if (n != 3 + 30) {
        bump(C_MALFORMED, 1);
        break;
      }
      let seq: u64 = 0;
      for (let k: usize = 0; k < 20; k++) {
        const c = <u32>load<u8>(q + 13 + k);
        if (c >= 0x30 && c <= 0x39) seq = seq * 10 + <u64>(c - 0x30);
      }
      const ns = session(q + 3, seq);
      if (ns == 0) break;
      setExpected(ns, seq);
      store<u32>(st, <u32>ns, 8);
      bump(C_LOGINS, 1);
      break;
    }
    case 0x5a: endSession(s, expected(s)); break; // Z
    case 0x4a: bump(C_LOGIN_REJECTED, 1); break; // J
    case 0x2b: // + debug
    case 0x55: bump(C_DEBUG, 1); break; // U
    default: bump(C_MALFORMED, 1);
  }
}
