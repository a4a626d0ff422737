// Crash recovery: what a dead worker held goes back to the pool, counted, while the other workers
// keep running; and at stop, frames stranded in rings no worker drains any more are released and
// counted. The work itself is the engine module's (assembly/engine/recover.ts, beside the code that
// writes the worker's journal); this file decides when, waits for ring turns and keeps the list of
// claims still to publish.
import { CLAIM_BYTES, WC } from '../abi.js';
import { hostBlockAdd } from './stats.js';
import type { EngineRuntime } from './setup.js';

/** A word nobody changes: Atomics.wait on it is a 50 µs sleep between settle attempts. */
const nap = new Int32Array(new SharedArrayBuffer(4));

export class Recovery {
  /** Open-claim records (one per dead worker, in scratch: layout.ts planScratch) waiting for their turn. */
  private openClaims: number[] = [];

  constructor(private readonly rt: EngineRuntime) {}

  /** Claims still waiting to be published. */
  get pending(): boolean {
    return this.openClaims.length > 0;
  }

  /**
   * Frames dead worker `index` held, from its recovery journal: first the ring claim it left open
   * (published as soon as the ring's tail reaches it: earlier claimers are running workers a few
   * instructions from their publish, or other dead ones), then everything else; frames whose fate
   * was not counted yet count as handler_error. Returns the frames recovered.
   *
   * `resumeBurst`: the worker was ended by the plugin watchdog while its burst was in the plugin
   * stage. That burst is no handler's failure: it stays in the worker's burst list for the worker
   * that replaces it, which runs it through the stage again (the hung plugin is quarantined now, so
   * its policy decides: fail-open delivers the frames, fail-closed drops them as "plugin") and then
   * through the handler.
   */
  recover(index: number, resumeBurst = false): number {
    const block = this.rt.map.worker(index);
    const resumed = resumeBurst ? this.rt.u32[(block + WC.BURST_COUNT) >> 2] : 0;
    // Out of the journal while the rest is recovered, back in for the replacement.
    if (resumed) this.rt.u32[(block + WC.BURST_COUNT) >> 2] = 0;
    const held = this.recoverJournal(index);
    if (resumed) this.rt.u32[(block + WC.BURST_COUNT) >> 2] = resumed;
    return held + resumed;
  }

  private recoverJournal(index: number): number {
    const { wasm, ctx } = this.rt;
    const claim = this.rt.claims + index * CLAIM_BYTES;
    if (wasm.recoverClaim(ctx, index, claim)) {
      this.openClaims.push(claim);
      const end = Date.now() + 200;
      while (!this.settleClaims() && Date.now() < end) Atomics.wait(nap, 0, 0, 0.05);
    }
    return wasm.recoverWorker(ctx, index, claim);
  }

  /** Publishes every open claim whose turn has come, in turn order; true when none is left. */
  settleClaims(): boolean {
    let progress = true;
    while (progress && this.openClaims.length) {
      progress = false;
      for (let i = 0; i < this.openClaims.length; i++) {
        if (!this.rt.wasm.claimSettle(this.openClaims[i], this.rt.claimSettle)) continue;
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
    const { layout, u32, wasm, ctx, hostCache, hostStats, dequeue: dst, config: c } = this.rt;
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
    for (let q = 0; q < c.queues; q++) tx += drain(layout.ring(`tx${q}`).offset) + wasm.txHoldRelease(ctx, q, hostCache);
    if (tx) hostBlockAdd(this.rt.memory.buffer, hostStats, 'tx_dropped', tx);
  }
}
