// The kernel-ring walkers on rings built here in memory, with this test playing the kernel: index
// wrap-around of the free-running u32 counters, what is given back and when, and the V3 rule that
// not every block may be held. (The real kernel is exercised by tests/io-*.test.ts.)
import { xskRing, xskInit, xskRx, xskRelease, xskTxReserve, xskTxSubmit, xskTxPending, xskRxReady, XSK_RX, XSK_FILL, XSK_TX, XSK_COMP } from './xsk';
import { tpacketInit, tpacketRx, tpacketRelease, tpacketRxReady, TPS_RX, TPS_RX_BYTES } from './tpacket';
import { META_CAPLEN, META_DATA, META_QUEUE, META_LINKTYPE, META_TIMESTAMP, META_WIRELEN } from '../meta';
import { kernelDeliver, ringOf } from '../testing/fake-xsk-kernel';
import { kernelFillV3 } from '../testing/fake-tpacket-kernel';

// A fake AF_XDP ring: producer at +0, consumer at +64, flags at +128, descriptors at +192.
function ring(entries: u32, descBytes: u32, start: u32): usize {
  const r = heap.alloc(192 + entries * descBytes);
  memory.fill(r, 0, 192 + entries * descBytes);
  store<u32>(r, start);
  store<u32>(r, start, 64);
  return r;
}

const SHIFT: u32 = 11; // 2048-byte frames
const NEAR_WRAP: u32 = 0xfffffff8;

function xsk(rxFrames: u32, txFrames: u32): usize {
  const st = heap.alloc(256);
  memory.fill(st, 0, 256);
  const rx = ring(16, 16, NEAR_WRAP);
  const fill = ring(16, 8, NEAR_WRAP);
  const tx = ring(8, 16, NEAR_WRAP);
  const comp = ring(8, 8, NEAR_WRAP);
  xskRing(st, XSK_RX, rx, rx + 64, rx + 192, rx + 128, 16);
  xskRing(st, XSK_FILL, fill, fill + 64, fill + 192, fill + 128, 16);
  xskRing(st, XSK_TX, tx, tx + 64, tx + 192, tx + 128, 8);
  xskRing(st, XSK_COMP, comp, comp + 64, comp + 192, comp + 128, 8);
  const umem: usize = 0x100000; // only addresses are computed, never dereferenced
  const records = heap.alloc(64 * 64);
  const free = heap.alloc(4 * 64);
  xskInit(st, 3, umem, SHIFT, 0, rxFrames, txFrames, records, free);
  return st;
}

describe('xsk walker', () => {
  it('fills the fill ring with the queue RX frames, across the u32 wrap', () => {
    const st = xsk(12, 4);
    const fill = ringOf(st, XSK_FILL);
    expect(load<u32>(fill)).toBe(NEAR_WRAP + 12);
    expect(load<u64>(fill + 192 + (<usize>((NEAR_WRAP + 11) & 15) << 3))).toBe(<u64>11 << SHIFT);
  });

  it('receives a burst as records pointing into the frames, and releases it back to the fill ring', () => {
    const st = xsk(12, 4);
    kernelDeliver(st, 10, 60, 16);
    expect(xskRxReady(st)).toBe(10);
    const out = heap.alloc(64 * 4);
    const n = xskRx(st, out, 8, 1234567890123);
    expect(n).toBe(8);
    const m = <usize>load<u32>(out + 4);
    expect(load<u32>(m, META_DATA)).toBe(0x100000 + (1 << SHIFT) + 256);
    expect(load<u32>(m, META_CAPLEN)).toBe(60);
    expect(load<u64>(m, META_TIMESTAMP)).toBe(1234567890123);
    expect(load<u16>(m, META_QUEUE)).toBe(3);
    expect(load<u16>(m, META_LINKTYPE)).toBe(1);
    // Nothing goes back before release: the frames are still ours.
    const rx = ringOf(st, XSK_RX);
    const fill = ringOf(st, XSK_FILL);
    expect(load<u32>(rx, 64)).toBe(NEAR_WRAP);
    expect(xskRxReady(st)).toBe(2);
    xskRelease(st);
    expect(load<u32>(rx, 64)).toBe(NEAR_WRAP + 8); // consumer wrapped past 2^32
    expect(load<u32>(fill)).toBe(NEAR_WRAP + 12 + 8);
    // The frame base goes back, not the packet address inside it.
    expect(load<u64>(fill + 192 + (<usize>((NEAR_WRAP + 12) & 15) << 3))).toBe(0);
    // The next receive releases nothing twice and takes the remaining 2.
    expect(xskRx(st, out, 8, 0)).toBe(2);
    xskRelease(st);
    expect(load<u32>(rx, 64)).toBe(NEAR_WRAP + 10);
  });

  it('transmits reserved frames, returns unsubmitted ones, and reaps completions', () => {
    const st = xsk(12, 4);
    const out = heap.alloc(64 * 4);
    const lens = heap.alloc(64 * 4);
    expect(xskTxReserve(st, out, 8)).toBe(4); // only 4 TX frames
    store<u32>(lens, 100);
    store<u32>(lens, 200, 4);
    xskTxSubmit(st, lens, 2);
    const tx = ringOf(st, XSK_TX);
    expect(load<u32>(tx)).toBe(NEAR_WRAP + 2);
    expect(load<u32>(tx + 192 + (<usize>((NEAR_WRAP + 1) & 7) << 4), 8)).toBe(200);
    expect(xskTxPending(st)).toBe(2); // two in flight, two back on the free stack
    // The kernel sends them and completes both.
    const comp = ringOf(st, XSK_COMP);
    for (let i: u32 = 0; i < 2; i++) {
      store<u64>(comp + 192 + (<usize>((NEAR_WRAP + i) & 7) << 3), load<u64>(tx + 192 + (<usize>((NEAR_WRAP + i) & 7) << 4)));
    }
    store<u32>(tx, NEAR_WRAP + 2, 64);
    store<u32>(comp, NEAR_WRAP + 2);
    expect(xskTxPending(st)).toBe(0);
    expect(load<u32>(comp, 64)).toBe(NEAR_WRAP + 2);
    expect(xskTxReserve(st, out, 8)).toBe(4);
  });
});

// A fake TPACKET_V3 ring: `blocks` blocks of 4096 bytes, packets of 64 bytes after a 48-byte header.
function v3(blocks: u32): usize {
  const r = heap.alloc(4096 * blocks);
  memory.fill(r, 0, 4096 * blocks);
  return r;
}
/** A TPACKET_V3 walker (queue 0, no TX ring) over the `blocks` blocks of the fake ring `r`. */
function v3Walker(r: usize, blocks: u32): usize {
  const st = heap.alloc(128);
  tpacketInit(st, 3, r, 4096, blocks, 0, heap.alloc(64 * 64), 0, 0, 0);
  return st;
}
/** The kernel fills block b of the fake ring `r` (see assembly/testing/fake-tpacket-kernel.ts). */
function kernelFillBlock(r: usize, b: u32, pkts: u32, firstSeq: u32): void {
  kernelFillV3(r, 4096, b, pkts, firstSeq);
}

describe('tpacket v3 walker', () => {
  it('walks packets across blocks, keeps them until release, then gives the blocks back', () => {
    const r = v3(4);
    const st = v3Walker(r, 4);
    const out = heap.alloc(64 * 4);
    kernelFillBlock(r, 0, 3, 0);
    kernelFillBlock(r, 1, 3, 3);
    expect(tpacketRxReady(st)).toBe(3);
    expect(tpacketRx(st, out, 5)).toBe(5);
    const m4 = <usize>load<u32>(out + 16);
    expect(load<u32>(<usize>load<u32>(m4, META_DATA))).toBe(4);
    expect(load<u64>(m4, META_TIMESTAMP)).toBe(1_000_000_005);
    // Block 0 is read to its end but its packets are in the burst: still ours.
    expect(load<u32>(r, 8)).toBe(1);
    tpacketRelease(st);
    expect(load<u32>(r, 8)).toBe(0); // block 0 back
    expect(load<u32>(r + 4096, 8)).toBe(1); // block 1 is still being read
    expect(tpacketRx(st, out, 5)).toBe(1);
    tpacketRelease(st);
    expect(load<u32>(r + 4096, 8)).toBe(0);
  });

  it('never holds every block: a burst stops one short of the block it started from', () => {
    const r = v3(2);
    const st = v3Walker(r, 2);
    const out = heap.alloc(64 * 4);
    kernelFillBlock(r, 0, 1, 0);
    kernelFillBlock(r, 1, 1, 1);
    expect(tpacketRx(st, out, 8)).toBe(2);
    tpacketRelease(st);
    expect(load<u32>(r, 8)).toBe(0);
    expect(load<u32>(r + 4096, 8)).toBe(0);
    kernelFillBlock(r, 0, 2, 2);
    kernelFillBlock(r, 1, 2, 4);
    const n = tpacketRx(st, out, 8);
    expect(n).toBe(4);
    expect(load<u32>(<usize>load<u32>(<usize>load<u32>(out + 12), META_DATA))).toBe(5);
    tpacketRelease(st);
    expect(load<u32>(r, 8) | load<u32>(r + 4096, 8)).toBe(0);
  });

  it('counts bytes by wire length: a packet cut by the snap length crossed the link whole', () => {
    const r = v3(2);
    const st = v3Walker(r, 2);
    const out = heap.alloc(64 * 4);
    kernelFillV3(r, 4096, 0, 3, 0, 64, 1500);
    expect(tpacketRx(st, out, 8)).toBe(3);
    expect(load<u64>(st, TPS_RX)).toBe(3);
    expect(load<u64>(st, TPS_RX_BYTES)).toBe(3 * 1500);
    const m = <usize>load<u32>(out);
    expect(load<u32>(m, META_CAPLEN)).toBe(64);
    expect(load<u32>(m, META_WIRELEN)).toBe(1500);
  });
});
