// The order book: a per-instrument L3 book (every displayed order by reference number) kept from
// the ITCH 5.0 records the `itch` / `soupbintcp-itch` plugins decode, with aggregated price levels
// and the best bid and offer. It lives in a region of the shared memory the host sizes
// (host/feed/book.ts bookLayout): no allocation, no module globals, every table at an address
// computed from the region's base. Order-book semantics: docs/feed.md.
//
//   region (little-endian)
//   0    header (256 bytes): configuration, counters (H_*)
//   256  locate table      65,536 × u16: symbol slot + 1 of each stock locate (0: none)
//   …    symbols           symbols × symbolBytes(levels): name (8) | 8 × 0 | bid side | ask side
//                          side: count u32 | 12 × 0 | 8 × u32 0x80000000 (below level 0, see betterLevels) |
//                          keys u32 × levels | orders u32 × levels | shares u64 × levels
//                          keys: the level prices keyed (sideFlip), ascending: the best level is the last
//   …    orders            slots × 32: {ref u64 (0: empty), price u32, shares u32, symbol u32, side u8,
//                          3 × 0, its side's keys u32 (an address), its price's key u32}
//                          open addressing, linear probing, deletion by backward shift (no tombstones)
//   …    out               outCap × 40: the records of the last apply (BBO changes and trades)
//
//   out record (40 bytes): kind u8 | side u8 | symbol u16 | printable u8 | 3 × 0 | seq u64 |
//     BBO:   bid price u32 | ask price u32 | bid shares u64 | ask shares u64   (0 shares: empty side)
//     TRADE: price u32 | shares u32 | match u64 | order ref u64
//
// A full table is counted, never overrun: an order that finds no room (orders, levels or symbols
// full) is refused, and later messages naming it count as unknown references.

const H_SLOTS: usize = 0; //        order slots (power of two)
const H_MAX_ORDERS: usize = 4; //   live orders at most (3/4 of the slots)
const H_SYMBOLS: usize = 8;
const H_LEVELS: usize = 12; //      levels per side of a symbol
const H_OUT_CAP: usize = 16;
const H_SYMBOL_COUNT: usize = 20;
const H_ORDER_COUNT: usize = 24;
const H_OUT_COUNT: usize = 28;
const H_SYMBOLS_AT: usize = 32;
const H_ORDERS_AT: usize = 36;
const H_OUT_AT: usize = 40;
const H_DISPLACED: usize = 44; //   live orders not in their home slot
const H_COUNTERS: usize = 64; //    u64 counters, C_* below

// Counters (host/feed/book.ts BOOK_COUNTERS names them).
const C_APPLIED: usize = 0; //        records that changed the book
const C_UNKNOWN_REF: usize = 1; //    E/C/X/D/U naming an order the book does not hold
const C_DUPLICATE_REF: usize = 2; //  A/F/U adding a reference already live
const C_ORDERS_FULL: usize = 3;
const C_LEVELS_FULL: usize = 4;
const C_SYMBOLS_FULL: usize = 5;
const C_OUT_FULL: usize = 6; //       records that did not fit the out area
const C_BBO: usize = 7;
const C_TRADES: usize = 8;
const C_OVER_EXECUTED: usize = 9; //  executed/cancelled shares above the order's remaining (clamped)

const HEADER_BYTES: usize = 256;
const LOCATES: usize = 65536;
const SYMBOL_HEADER: usize = 16;
const SIDE_HEADER: usize = 48; //   count, then the 8 keys below level 0
const LEVEL_BYTES: usize = 16;
const BELOW_ALL: u32 = 0x80000000; // the key no price's key is below (i32 min)
const ORDER_BYTES: usize = 32;
const OUT_BYTES: usize = 40;
const KIND_BBO: u8 = 1;
const KIND_TRADE: u8 = 2;
const BID: u8 = 0x42; // 'B'
const LEVEL_FULL: i32 = -1;

// Decoded record (feed/itch/itch50.ts): type @0, n @1, locate @4, sequence @8, fields @32 + 8i.
const R_FIELDS: usize = 32;

@inline function sideBytes(levels: u32): usize {
  return SIDE_HEADER + <usize>levels * LEVEL_BYTES;
}
@inline function symbolBytes(levels: u32): usize {
  return SYMBOL_HEADER + 2 * sideBytes(levels);
}
/**
 * Clears the region at `base` (`bytes` long) and writes its configuration; the host computed the
 * offsets (host/feed/book.ts bookLayout: `slots` a power of two, at most 3/4 of them used).
 */
export function bookInit(base: usize, bytes: u32, slots: u32, orders: u32, symbols: u32, levels: u32, outCap: u32, symbolsAt: u32, ordersAt: u32, outAt: u32): void {
  memory.fill(base, 0, bytes);
  store<u32>(base, slots, H_SLOTS);
  store<u32>(base, orders, H_MAX_ORDERS);
  store<u32>(base, symbols, H_SYMBOLS);
  store<u32>(base, levels, H_LEVELS);
  store<u32>(base, outCap, H_OUT_CAP);
  store<u32>(base, symbolsAt, H_SYMBOLS_AT);
  store<u32>(base, ordersAt, H_ORDERS_AT);
  store<u32>(base, outAt, H_OUT_AT);
  for (let i: u32 = 0; i < symbols; i++) {
    const sym = symbolAt(base, i);
    for (let k: usize = 16; k < SIDE_HEADER; k += 4) {
      store<u32>(sideLevels(sym, levels, true) - SIDE_HEADER + k, BELOW_ALL);
      store<u32>(sideLevels(sym, levels, false) - SIDE_HEADER + k, BELOW_ALL);
    }
  }
}

@inline function count(base: usize, c: usize): void {
  const a = base + H_COUNTERS + (c << 3);
  store<u64>(a, load<u64>(a) + 1);
}

// --- symbols ------------------------------------------------------------------------------------

@inline function symbolAt(base: usize, slot: u32): usize {
  return base + <usize>load<u32>(base, H_SYMBOLS_AT) + <usize>slot * symbolBytes(load<u32>(base, H_LEVELS));
}

/** The symbol slot of a stock locate, made (named `name`) on first sight; -1 when the table is full. */
function symbolOf(base: usize, locate: u32, name: u64): i32 {
  const l = base + HEADER_BYTES + (<usize>locate << 1);
  const s = <i32>load<u16>(l) - 1;
  if (s >= 0) return s;
  const n = load<u32>(base, H_SYMBOL_COUNT);
  if (n == load<u32>(base, H_SYMBOLS)) {
    count(base, C_SYMBOLS_FULL);
    return -1;
  }
  store<u32>(base, n + 1, H_SYMBOL_COUNT);
  store<u16>(l, <u16>(n + 1));
  store<u64>(symbolAt(base, n), name);
  return <i32>n;
}

/**
 * The levels of one side: the address of its keys; its count is at `keys - SIDE_HEADER`. A side of
 * `levels` levels is three arrays: keys (u32 × levels), then orders (u32 × levels), then shares
 * (u64 × levels), so the keys the search compares lie together.
 */
@inline function sideLevels(sym: usize, L: u32, bid: bool): usize {
  return sym + SYMBOL_HEADER + SIDE_HEADER + (bid ? 0 : sideBytes(L));
}

/**
 * A level price is kept keyed so that better is greater on both sides, as a signed number: bids
 * with the top bit flipped (unsigned order as signed), asks with the other 31 bits flipped too
 * (the order inverted). One signed compare serves both sides without a branch on the side, which
 * is random from one message to the next, and signed is the compare x86 has for 4 lanes at once.
 * The key is its own inverse: key ^ flip is the price.
 */
@inline function sideFlip(bid: bool): u32 {
  return bid ? 0x80000000 : 0x7fffffff;
}

/**
 * How many levels of the side whose keys are at `pr` (`n` of them) are better than the price
 * keyed `k`: where the price is or goes is below them, counted from the best down (most activity
 * is near the top). The top 8 levels are counted without a branch (the side is sorted, so the
 * better ones are the top run) by two 4-lane compares of keys n-8 .. n-1: a loop would leave at a
 * different level each message and mispredict its exit. Below level 0 the side keeps 8 keys
 * BELOW_ALL, which no key is less than, so a side of fewer than 8 levels needs no mask.
 */
@inline function betterLevels(pr: usize, n: u32, k: i32): u32 {
  const kk = i32x4.splat(k);
  const at = pr + (<usize>n << 2);
  const hi = i32x4.bitmask(i32x4.gt_s(v128.load(at - 16), kk));
  const lo = i32x4.bitmask(i32x4.gt_s(v128.load(at - 32), kk));
  let d = <u32>popcnt(hi | (lo << 4));
  if (d == 8) while (d < n && load<i32>(pr + (<usize>(n - 1 - d) << 2)) > k) d++;
  return d;
}

/**
 * An order of `shares` joins the level keyed `k` on the side whose keys are at `pr` (`levels` at
 * most), which is made when new. Returns LEVEL_FULL when the side has no room for a new level,
 * else whether the side's best level (price or shares) changed: a change below the top leaves the
 * BBO alone, so the caller need not compare the whole top of book before and after every message.
 */
@inline function levelJoin(pr: usize, levels: u32, k: i32, shares: u64): i32 {
  const cAt = pr - SIDE_HEADER;
  const n = load<u32>(cAt);
  const L = <usize>levels;
  const od = pr + (L << 2);
  const sh = pr + (L << 3);
  const d = betterLevels(pr, n, k);
  const i = <i32>n - 1 - <i32>d;
  const top = d == 0;
  if (i >= 0 && load<i32>(pr + (<usize>i << 2)) == k) {
    const oAt = od + (<usize>i << 2);
    const sAt = sh + (<usize>i << 3);
    store<u32>(oAt, load<u32>(oAt) + 1);
    store<u64>(sAt, load<u64>(sAt) + shares);
    return <i32>(top && shares != 0);
  }
  if (<usize>n == L) return LEVEL_FULL;
  const ins = <usize>(i + 1);
  for (let m = <usize>n; m > ins; m--) {
    store<u32>(pr + (m << 2), load<u32>(pr + (m << 2) - 4));
    store<u32>(od + (m << 2), load<u32>(od + (m << 2) - 4));
    store<u64>(sh + (m << 3), load<u64>(sh + (m << 3) - 8));
  }
  store<i32>(pr + (ins << 2), k);
  store<u32>(od + (ins << 2), 1);
  store<u64>(sh + (ins << 3), shares);
  store<u32>(cAt, n + 1);
  return <i32>top; // a level above the old best is the new best
}

/**
 * A held order gives `shares` of the level keyed `k` on the side whose keys are at `pr` (`levels`
 * at most) and, when `gone`, leaves it; a level left without orders is removed. Whether the side's
 * best level changed.
 */
@inline function levelLeave(pr: usize, levels: u32, k: i32, shares: u64, gone: bool): i32 {
  const cAt = pr - SIDE_HEADER;
  const n = load<u32>(cAt);
  const L = <usize>levels;
  const od = pr + (L << 2);
  const sh = pr + (L << 3);
  const d = betterLevels(pr, n, k);
  const i = <i32>n - 1 - <i32>d;
  const top = d == 0;
  if (i < 0 || load<i32>(pr + (<usize>i << 2)) != k) return 0; // no such level (cannot happen for a held order)
  const oAt = od + (<usize>i << 2);
  const o = load<u32>(oAt) - <u32>gone;
  if (o == 0) {
    // Level empty: close the hole above it. Plain loads and stores, not memory.copy: on a shared
    // memory that is a call out of the module, which costs more than the few levels a book near
    // its top shifts.
    for (let m = <usize>i; m < <usize>n - 1; m++) {
      store<u32>(pr + (m << 2), load<u32>(pr + (m << 2), 4));
      store<u32>(od + (m << 2), load<u32>(od + (m << 2), 4));
      store<u64>(sh + (m << 3), load<u64>(sh + (m << 3), 8));
    }
    store<u32>(cAt, n - 1);
    return <i32>top; // the best level left: the next one (or none) is the best now
  }
  const sAt = sh + (<usize>i << 3);
  store<u32>(oAt, o);
  store<u64>(sAt, load<u64>(sAt) - shares);
  return <i32>(top && shares != 0);
}

// --- orders -------------------------------------------------------------------------------------

/**
 * The home slot of a reference: its low bits (folded with the high word). Exchanges number orders
 * in sequence through the day, so the live orders, mostly recent ones, sit in neighbouring slots
 * and share cache lines; a scrambling hash would spread them over the whole table, a cache miss
 * per message (a table sized for millions of orders is megabytes).
 */
@inline function hashSlot(ref: u64, mask: u32): u32 {
  return (<u32>ref ^ <u32>(ref >> 32)) & mask;
}

/** The address of the order `ref`, or 0. */
export function orderFind(base: usize, ref: u64): usize {
  return findIn(base + <usize>load<u32>(base, H_ORDERS_AT), load<u32>(base, H_SLOTS) - 1, ref);
}

/**
 * The address of the order `ref` in the table at `t` (slots `mask` + 1), or 0. Most orders sit in
 * their home slot, so the home slot is checked here, inline and without a loop; only a reference
 * whose home holds another order walks the probe run (probeRun).
 */
@inline function findIn(t: usize, mask: u32, ref: u64): usize {
  const e = t + <usize>hashSlot(ref, mask) * ORDER_BYTES;
  const r = load<u64>(e);
  // Reference 0 is never held (addOrder refuses it): its home, when empty, reads as 0 == ref.
  if (r == ref) return ref != 0 ? e : 0;
  if (r == 0 || ref == 0) return 0;
  const x = probeRun(t, mask, ref, e);
  return load<u64>(x) == ref ? x : 0;
}

/**
 * From the occupied slot `e`, the slot holding `ref` or the empty slot that ends its probe run.
 * Not inlined: the rare walk keeps its loop out of the message loop.
 */
function probeRun(t: usize, mask: u32, ref: u64, e: usize): usize {
  const last = t + <usize>mask * ORDER_BYTES;
  do e = e == last ? t : e + ORDER_BYTES;
  while (load<u64>(e) != ref && load<u64>(e) != 0);
  return e;
}

/**
 * Frees the slot at `e`, shifting later members of its probe run back (no tombstones). Only an
 * order away from its home slot can need moving back, so while none is (the common case: orders
 * numbered in sequence each sit at home) the slot is just cleared, without walking the run of
 * neighbouring live orders to its end.
 */
@inline function orderFree(base: usize, t: usize, mask: u32, e: usize): void {
  // Only the reference marks a slot used; the rest is written whole by the next add.
  if (load<u32>(base, H_DISPLACED) == 0) store<u64>(e, 0); // every order at home, this one too
  else freeDisplaced(base, t, mask, e);
  store<u32>(base, load<u32>(base, H_ORDER_COUNT) - 1, H_ORDER_COUNT);
}

/** orderFree while some order is away from its home slot. */
function freeDisplaced(base: usize, t: usize, mask: u32, e: usize): void {
  let hole = <u32>((e - t) / ORDER_BYTES);
  const displaced = load<u32>(base, H_DISPLACED) - <u32>(hashSlot(load<u64>(e), mask) != hole);
  if (displaced != 0) hole = shiftBack(t, mask, hole, displaced, base);
  else store<u32>(base, 0, H_DISPLACED);
  store<u64>(t + <usize>hole * ORDER_BYTES, 0);
}

/** Moves the later members of the probe run after `hole` back as far as their homes allow; returns the last hole (stores the displaced count). */
function shiftBack(t: usize, mask: u32, hole: u32, displaced: u32, base: usize): u32 {
  for (let i = (hole + 1) & mask; ; i = (i + 1) & mask) {
    const x = t + <usize>i * ORDER_BYTES;
    const r = load<u64>(x);
    if (r == 0) break;
    const home = hashSlot(r, mask);
    // Move x into the hole when its home is not in (hole, i] (cyclically).
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      const h = t + <usize>hole * ORDER_BYTES;
      store<u64>(h, r);
      store<u64>(h, load<u64>(x, 8), 8);
      store<u64>(h, load<u64>(x, 16), 16);
      store<u64>(h, load<u64>(x, 24), 24);
      displaced -= <u32>(home == hole);
      hole = i;
    }
  }
  store<u32>(base, displaced, H_DISPLACED);
  return hole;
}

/**
 * Adds an order: -1 (counted) when it cannot be held, else whether the side's best level changed.
 */
@inline function addOrder(base: usize, t: usize, mask: u32, L: u32, sym: usize, slot: u32, ref: u64, side: u8, shares: u32, price: u32): i32 {
  // Its home slot, or (taken) the slot that ends the probe run: the order itself (a duplicate) or
  // the empty slot it goes to.
  const home = t + <usize>hashSlot(ref, mask) * ORDER_BYTES;
  let e = home;
  const r = load<u64>(e);
  if (r != 0 && r != ref) e = probeRun(t, mask, ref, e);
  if (ref == 0 || load<u64>(e) == ref) {
    count(base, C_DUPLICATE_REF);
    return -1;
  }
  const live = load<u32>(base, H_ORDER_COUNT);
  if (live >= load<u32>(base, H_MAX_ORDERS)) {
    count(base, C_ORDERS_FULL);
    return -1;
  }
  const bid = side == BID;
  const pr = sideLevels(sym, L, bid);
  const k = price ^ sideFlip(bid);
  const changed = levelJoin(pr, L, <i32>k, <u64>shares);
  if (changed == LEVEL_FULL) {
    count(base, C_LEVELS_FULL);
    return -1;
  }
  store<u32>(base, live + 1, H_ORDER_COUNT);
  if (e != home) store<u32>(base, load<u32>(base, H_DISPLACED) + 1, H_DISPLACED);
  store<u64>(e, ref);
  store<u32>(e, price, 8);
  store<u32>(e, shares, 12);
  store<u32>(e, slot, 16);
  store<u8>(e, side, 20);
  store<u32>(e, <u32>pr, 24);
  store<u32>(e, k, 28);
  return changed;
}

/** How many of `n` shares the order at `e` gives (n clamped to what it has; u32 max: all of it). */
@inline function taken(base: usize, e: usize, n: u32): u32 {
  const left = load<u32>(e, 12);
  if (n <= left) return n;
  if (n != u32.MAX_VALUE) count(base, C_OVER_EXECUTED);
  return left;
}

/** Takes `k` (from taken()) shares off the order at `e`; at 0 it leaves the book. Whether the side's best level changed. */
@inline function take(base: usize, t: usize, mask: u32, L: u32, e: usize, k: u32): i32 {
  const left = load<u32>(e, 12);
  const gone = k == left;
  const changed = levelLeave(<usize>load<u32>(e, 24), L, load<i32>(e, 28), <u64>k, gone);
  if (gone) orderFree(base, t, mask, e);
  else store<u32>(e, left - k, 12);
  return changed;
}

/** The order at `e` leaves the book with all its shares. Whether the side's best level changed. */
@inline function takeAll(base: usize, t: usize, mask: u32, L: u32, e: usize): i32 {
  const changed = levelLeave(<usize>load<u32>(e, 24), L, load<i32>(e, 28), <u64>load<u32>(e, 12), true);
  orderFree(base, t, mask, e);
  return changed;
}

// --- records ------------------------------------------------------------------------------------

@inline function field(r: usize, i: usize): u64 {
  return load<u64>(r + R_FIELDS + (i << 3));
}

/** The out record slot next, or 0 when the out area is full (counted). */
function out(base: usize): usize {
  const n = load<u32>(base, H_OUT_COUNT);
  if (n == load<u32>(base, H_OUT_CAP)) {
    count(base, C_OUT_FULL);
    return 0;
  }
  store<u32>(base, n + 1, H_OUT_COUNT);
  return base + <usize>load<u32>(base, H_OUT_AT) + <usize>n * OUT_BYTES;
}

function trade(base: usize, sym: u32, seq: u64, side: u8, price: u32, shares: u32, matchNo: u64, ref: u64, printable: u8): void {
  count(base, C_TRADES);
  const o = out(base);
  if (o == 0) return;
  store<u8>(o, KIND_TRADE);
  store<u8>(o, side, 1);
  store<u16>(o, <u16>sym, 2);
  store<u32>(o, <u32>printable, 4);
  store<u64>(o, seq, 8);
  store<u32>(o, price, 16);
  store<u32>(o, shares, 20);
  store<u64>(o, matchNo, 24);
  store<u64>(o, ref, 32);
}

/** The best price of the side whose keys are at `pr` (flip `flip`); 0 when the side is empty. */
@inline function bestPrice(pr: usize, flip: u32): u32 {
  const n = load<u32>(pr - SIDE_HEADER);
  return n == 0 ? 0 : load<u32>(pr + (<usize>(n - 1) << 2)) ^ flip;
}

/** The total shares at the best price of the side whose keys are at `pr` (`L` levels); 0 when the side is empty. */
@inline function bestShares(pr: usize, L: u32): u64 {
  const n = load<u32>(pr - SIDE_HEADER);
  return n == 0 ? 0 : load<u64>(pr + (<usize>L << 3) + (<usize>(n - 1) << 3));
}

/**
 * Applies `len` bytes of decoded records at `p` (a KIND_MESSAGES batch) to the book. The out area
 * starts empty each call; returns how many out records it holds (BBO changes and trades, in
 * message order).
 */
export function bookApply(base: usize, p: usize, len: u32): u32 {
  store<u32>(base, 0, H_OUT_COUNT);
  // The configuration, read once: the loop keeps it in locals rather than loading it from the
  // header on every message (the compiler cannot tell the header from the tables the loop writes).
  const t = base + <usize>load<u32>(base, H_ORDERS_AT);
  const mask = load<u32>(base, H_SLOTS) - 1;
  const L = load<u32>(base, H_LEVELS);
  const syms = base + <usize>load<u32>(base, H_SYMBOLS_AT);
  const sb = symbolBytes(L);
  const end = p + <usize>len;
  while (p + R_FIELDS <= end) {
    const n = <usize>load<u8>(p, 1);
    apply(base, t, mask, L, syms, sb, p);
    p += R_FIELDS + (n << 3);
  }
  return load<u32>(base, H_OUT_COUNT);
}

// apply and the order and level operations it runs are inlined into one function (@inline): a
// wasm call per operation costs a frame, a stack check and spilled registers on every message.
// One switch on the type, each case complete: the type is random from one message to the next, so
// every further branch on it would be one more misprediction.
@inline function apply(base: usize, t: usize, mask: u32, L: u32, syms: usize, sb: usize, r: usize): void {
  let slot: u32;
  let changed: i32;
  switch (<u32>load<u8>(r)) {
    case 0x41: // A
    case 0x46: { // F
      const s = symbolOf(base, <u32>load<u16>(r, 4), field(r, 3));
      if (s < 0) return;
      slot = <u32>s;
      changed = addOrder(base, t, mask, L, syms + <usize>slot * sb, slot, field(r, 0), <u8>field(r, 1), <u32>field(r, 2), <u32>field(r, 4));
      if (changed < 0) return;
      break;
    }
    case 0x44: { // D
      const e = findIn(t, mask, field(r, 0));
      if (e == 0) return unknownRef(base);
      slot = load<u32>(e, 16);
      changed = takeAll(base, t, mask, L, e);
      break;
    }
    case 0x45: { // E
      const e = findIn(t, mask, field(r, 0));
      if (e == 0) return unknownRef(base);
      slot = load<u32>(e, 16);
      const k = taken(base, e, <u32>field(r, 1));
      trade(base, slot, load<u64>(r, 8), load<u8>(e, 20), load<u32>(e, 8), k, field(r, 2), field(r, 0), 0x59);
      changed = take(base, t, mask, L, e, k);
      break;
    }
    case 0x58: { // X
      const e = findIn(t, mask, field(r, 0));
      if (e == 0) return unknownRef(base);
      slot = load<u32>(e, 16);
      changed = take(base, t, mask, L, e, taken(base, e, <u32>field(r, 1)));
      break;
    }
    case 0x55: { // U: the original leaves, the new reference enters with the same side and stock
      const e = findIn(t, mask, field(r, 0));
      if (e == 0) return unknownRef(base);
      slot = load<u32>(e, 16);
      const side = load<u8>(e, 20);
      const pr = <usize>load<u32>(e, 24);
      const flip = sideFlip(side == BID);
      // Two level changes that may cancel out (same price and shares): when the original rests at
      // the best price, compare the side's best before and after; otherwise its leaving moves
      // nothing at the top and only the new order can.
      const p0 = load<u32>(e, 8);
      const atBest = p0 == bestPrice(pr, flip);
      const q0 = atBest ? bestShares(pr, L) : 0;
      takeAll(base, t, mask, L, e);
      const added = addOrder(base, t, mask, L, syms + <usize>slot * sb, slot, field(r, 1), side, <u32>field(r, 2), <u32>field(r, 3));
      changed = atBest ? <i32>(bestPrice(pr, flip) != p0 || bestShares(pr, L) != q0) : <i32>(added > 0);
      break;
    }
    case 0x43: { // C
      const e = findIn(t, mask, field(r, 0));
      if (e == 0) return unknownRef(base);
      slot = load<u32>(e, 16);
      const k = taken(base, e, <u32>field(r, 1));
      trade(base, slot, load<u64>(r, 8), load<u8>(e, 20), <u32>field(r, 4), k, field(r, 2), field(r, 0), <u8>field(r, 3));
      changed = take(base, t, mask, L, e, k);
      break;
    }
    case 0x52: // R stock directory: names the locate
      symbolOf(base, <u32>load<u16>(r, 4), field(r, 0));
      return;
    case 0x50: { // P: a trade against a hidden order; the displayed book does not change
      const s = symbolOf(base, <u32>load<u16>(r, 4), field(r, 3));
      if (s >= 0) trade(base, <u32>s, load<u64>(r, 8), <u8>field(r, 1), <u32>field(r, 4), <u32>field(r, 2), field(r, 5), field(r, 0), 0x59);
      return;
    }
    default:
      return;
  }
  count(base, C_APPLIED);
  if (!changed) return;
  count(base, C_BBO);
  const o = out(base);
  if (o == 0) return;
  const b = sideLevels(syms + <usize>slot * sb, L, true);
  const a = b + sideBytes(L);
  store<u64>(o, <u64>KIND_BBO | (<u64>slot << 16));
  store<u64>(o, load<u64>(r, 8), 8);
  store<u32>(o, bestPrice(b, sideFlip(true)), 16);
  store<u32>(o, bestPrice(a, sideFlip(false)), 20);
  store<u64>(o, bestShares(b, L), 24);
  store<u64>(o, bestShares(a, L), 32);
}

function unknownRef(base: usize): void {
  count(base, C_UNKNOWN_REF);
}
