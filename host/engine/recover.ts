// Crash recovery: what a dead worker held goes back to the pool, counted, while the other workers
// keep running; and at stop, frames stranded in rings no worker drains any more are released and
// counted. Reads the worker's recovery journal (assembly/engine-map.ts WC_*, docs/memory-map.md).
import { EH, NEXT_NONE, PC, RingHeader, TX_NONE, TXH, WC } from '../abi.js';
import { RECORD_FRAME } from './burst.js';
import { hostBlockAdd } from './stats.js';
import type { EngineRuntime } from './setup.js';

/** A ring claim a dead worker left open, its items already in the slots: published when the tail reaches head. */
interface OpenClaim {
  ring: number;
  consumer: boolean;
  head: number;
  count: number;
  /** Consumer side (the free ring): the frames it had claimed, back to the pool once published. */
  frames: number[];
}

const JOURNAL = [WC.BURST_COUNT, WC.RECORD_COUNT, WC.STAGE_COUNT, WC.TX_COUNT, WC.SOURCE_N, WC.SOURCE_FIRST, WC.SOURCE_PHASE, WC.TMP_N, WC.TMP_FIRST, WC.TMP_RING, WC.TMP_LIST, WC.RECORD_FIRST];

export class Recovery {
  /** Claims of dead workers waiting for their turn to publish (settleClaims). */
  private openClaims: OpenClaim[] = [];

  constructor(private readonly rt: EngineRuntime) {}

  /** Claims still waiting to be published. */
  get pending(): boolean {
    return this.openClaims.length > 0;
  }

  /**
   * Frames a dead worker held, from its recovery journal (words 32..63 of its control line): V8
   * ends a worker only at a function entry or a loop header, and every hand-off files the frame in
   * the same straight-line stretch, so the journal is exact wherever it died. Frames whose fate was
   * not counted yet are counted as handler_error (the worker failed them); then the worker's pool
   * cache goes back to the free ring. The other workers keep running: this touches only the dead
   * worker's block and cache, and frames no other thread can reach. Returns the frames recovered.
   */
  recover(index: number): number {
    const { map: m, u32, wasm, ctx, config } = this.rt;
    const block = m.worker(index);
    const w = (field: number) => (block + field) >> 2;
    const claim = this.takeClaim(index);
    const release = (f: number) => wasm.frameRecover(ctx, this.rt.hostCache, f, claim.skip);
    let failed = 0;
    let txDropped = 0;
    let held = 0;
    // The replay source's frames (phase 0: not received yet, the records are replayed again; 1: received; 2: counted ring_full).
    const srcN = u32[w(WC.SOURCE_N)];
    const srcPhase = u32[w(WC.SOURCE_PHASE)];
    for (let i = u32[w(WC.SOURCE_FIRST)]; i < srcN; i++) release(u32[((block + m.w.frames) >> 2) + i]);
    if (srcPhase === 1) failed += srcN - u32[w(WC.SOURCE_FIRST)];
    held += Math.max(0, srcN - u32[w(WC.SOURCE_FIRST)]);
    // stage: the burst taken off the rx ring; entries that left read NEXT_NONE.
    const stageN = u32[w(WC.STAGE_COUNT)];
    for (let i = 0; i < stageN; i++) {
      const f = u32[((block + m.w.frames) >> 2) + i];
      if (f === NEXT_NONE) continue;
      release(f);
      failed++;
      held++;
    }
    // tmp: frames leaving through the burst list (to an in ring) or the stage list (to a tx ring).
    const tmpN = u32[w(WC.TMP_N)];
    const ring = u32[w(WC.TMP_RING)];
    const tx = u32[w(WC.TMP_LIST)] === 1;
    const tmpList = (block + (tx ? m.w.stage : m.w.burst)) >> 2;
    let first = u32[w(WC.TMP_FIRST)];
    if (ring !== 0) first = claim.ring === ring ? Math.min(tmpN, claim.count) : 0;
    for (let i = first; i < tmpN; i++) release(u32[tmpList + i]);
    if (ring !== 0) {
      if (tx) txDropped += tmpN - first;
      else failed += tmpN - first;
    }
    held += Math.max(0, tmpN - first);
    // staged forwards not moved yet: no reference of their own (flushTx takes it), never sent.
    const txN = u32[w(WC.TX_COUNT)];
    for (let i = 0; i < txN; i++) if (u32[((block + m.w.tx) >> 2) + i] !== TX_NONE) txDropped++;
    // burst: the handler's, failed with it.
    const n = u32[w(WC.BURST_COUNT)];
    for (let i = 0; i < n; i++) release(u32[((block + m.w.burst) >> 2) + i]);
    failed += n;
    held += n;
    // records staged and not published: the frames they hold (RECORD_KEEP ones hold none yet).
    const recs = u32[w(WC.RECORD_COUNT)];
    const recFirst = claim.ring === this.rt.layout.ring('records').offset ? claim.count : u32[w(WC.RECORD_FIRST)];
    for (let i = recFirst; i < recs; i++) {
      const o = ((block + m.w.records) >> 2) + i * 2;
      if (u32[o + 1] === RECORD_FRAME) release(u32[o]);
    }
    // transmit hold lists this worker drained: finish the releases it counted, close the list up.
    const txQueues = u32[(ctx >> 2) + EH.TX_QUEUES];
    for (let q = index; q < txQueues; q += config.workers) {
      const hold = m.txHoldList(q) >> 2;
      const counted = u32[hold + TXH.COUNTED / 4];
      if (counted === 0) continue;
      for (let i = u32[hold + TXH.RELEASED / 4]; i < counted; i++) release(u32[hold + TXH.LIST / 4 + i]);
      u32.copyWithin(hold + TXH.LIST / 4, hold + TXH.LIST / 4 + counted, hold + TXH.LIST / 4 + u32[hold + TXH.COUNT / 4]);
      u32[hold + TXH.COUNT / 4] -= counted;
      u32[hold + TXH.COUNTED / 4] = 0;
      u32[hold + TXH.RELEASED / 4] = 0;
    }
    const buf = this.rt.memory.buffer;
    if (failed) hostBlockAdd(buf, this.rt.hostStats, 'handler_error', failed);
    if (txDropped) hostBlockAdd(buf, this.rt.hostStats, 'tx_dropped', txDropped);
    for (const f of JOURNAL) u32[w(f)] = 0;
    const flushed = wasm.poolFlush(ctx, m.cache(index));
    return held + flushed;
  }

  /**
   * The ring claim a dead worker left open (assembly/ring.ts, "Claims and worker death"), taken out
   * of its pool cache line before anything else: its items go into the claimed slots now (the
   * worker's lists are reused by its successor), and the claim is published as soon as the ring's
   * tail reaches it (settleClaims; a free-ring claim must be, before the host frees anything).
   * Returns what the journal needs: the ring and count that went in, and a frame the claim already
   * put back in the pool (a capacity-0 cache's single free).
   */
  private takeClaim(index: number): { ring: number; count: number; skip: number } {
    const { map: m, u32 } = this.rt;
    const cache = m.cache(index);
    const rec = (cache + PC.CLAIM) >> 2;
    const word = u32[rec];
    const none = { ring: 0, count: 0, skip: NEXT_NONE };
    if (word === 0) return none;
    const ring = word & ~1;
    const consumer = (word & 1) === 1;
    const list = u32[rec + 1];
    const head = u32[rec + 2];
    const count = u32[rec + 3];
    u32.fill(0, rec, rec + 4);
    const mask = u32[(ring + RingHeader.mask) >> 2];
    const slotWords = u32[(ring + RingHeader.slotBytes) >> 2] / 4;
    const slot = (i: number) => ((ring + RingHeader.bytes) >> 2) + (((head + i) & mask) >>> 0) * slotWords;
    const free = this.rt.layout.ring('free').offset;
    const frames: number[] = [];
    let skip = NEXT_NONE;
    if (consumer) {
      // The frames are still in the slots (producers cannot reach them before the consumer tail does).
      for (let i = 0; i < count; i++) frames.push(u32[slot(i)]);
    } else if (list !== 0) {
      for (let i = 0; i < count; i++) for (let k = 0; k < slotWords; k++) u32[slot(i) + k] = u32[(list >> 2) + i * slotWords + k];
      // From the dead worker's own cache: those slots are the ring's, the count store never ran.
      const slots = cache + PC.SLOTS;
      if (ring === free && list >= slots && list < slots + 4 * u32[(cache + PC.CAPACITY) >> 2]) u32[(cache + PC.COUNT) >> 2] = (list - slots) >> 2;
    } else if (ring === free) skip = u32[slot(0)];
    this.openClaims.push({ ring, consumer, head, count, frames });
    // Earlier claimers are running workers a few instructions from their publish, or other dead ones.
    const end = Date.now() + 200;
    while (!this.settleClaims() && Date.now() < end) Atomics.wait(new Int32Array(this.rt.memory.buffer), rec, 0, 0.05);
    return { ring: consumer ? 0 : ring, count, skip };
  }

  /** Publishes every open claim whose turn has come, in turn order; true when none is left. */
  settleClaims(): boolean {
    const u32 = this.rt.u32;
    let progress = true;
    while (progress && this.openClaims.length) {
      progress = false;
      for (let i = 0; i < this.openClaims.length; i++) {
        const c = this.openClaims[i];
        const tail = (c.ring + (c.consumer ? RingHeader.consTail : RingHeader.prodTail)) >> 2;
        if (Atomics.load(u32, tail) !== c.head) continue;
        const count64 = (c.ring + (c.consumer ? RingHeader.dequeued : RingHeader.enqueued)) >> 2;
        const lo = u32[count64] + c.count;
        u32[count64] = lo >>> 0;
        u32[count64 + 1] += Math.floor(lo / 2 ** 32);
        Atomics.store(u32, tail, (c.head + c.count) >>> 0);
        Atomics.notify(new Int32Array(this.rt.memory.buffer), tail);
        if (c.frames.length) {
          const dst = this.rt.dequeue;
          u32.set(c.frames, dst >> 2);
          this.rt.wasm.ringEnqueueBurst32(c.ring, dst, c.frames.length);
        }
        this.openClaims.splice(i, 1);
        progress = true;
        break;
      }
    }
    return this.openClaims.length === 0;
  }

  /**
   * Frames left in rings no worker drains any more (a worker that died with restart off, or hung
   * and was terminated): released, and counted as handler_error, the failure that stranded them.
   * Forwarded frames not sent yet (the shaper held them) were delivered already: counted tx_dropped.
   */
  drainLeftovers(): void {
    const { layout, map: m, u32, wasm, ctx, hostCache, hostStats, dequeue: dst, config: c } = this.rt;
    const drain = (ring: number) => {
      let n = 0;
      for (;;) {
        const k = wasm.ringDequeueBurst32(ring, dst, 256);
        for (let i = 0; i < k; i++) wasm.frameRelease(ctx, hostCache, u32[(dst >> 2) + i]);
        n += k;
        if (k < 256) return n;
      }
    };
    let n = 0;
    for (const r of layout.rings) if (/^(rx|in)\d/.test(r.name)) n += drain(r.offset);
    if (n) hostBlockAdd(this.rt.memory.buffer, hostStats, 'handler_error', n);
    let tx = 0;
    for (let q = 0; q < c.queues; q++) {
      tx += drain(layout.ring(`tx${q}`).offset);
      const hold = m.txHoldList(q);
      const held = u32[(hold + TXH.COUNT) >> 2];
      for (let i = 0; i < held; i++) wasm.frameRelease(ctx, hostCache, u32[((hold + TXH.LIST) >> 2) + i]);
      u32[(hold + TXH.COUNT) >> 2] = 0;
      tx += held;
    }
    if (tx) hostBlockAdd(this.rt.memory.buffer, hostStats, 'tx_dropped', tx);
  }
}
